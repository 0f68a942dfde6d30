package main

import (
	"encoding/base64"
	"time"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/store"
)

// jsonView is a record as auditctl prints it: the stored column names,
// binary bodies in base64.
type jsonView struct {
	ID                    string              `json:"id"`
	Timestamp             time.Time           `json:"ts"`
	ObservedTimestamp     *time.Time          `json:"observed_ts,omitempty"`
	EventName             string              `json:"event_name,omitempty"`
	SeverityNumber        int                 `json:"severity_number,omitempty"`
	SeverityText          string              `json:"severity_text,omitempty"`
	ServiceName           string              `json:"service_name,omitempty"`
	ScopeName             string              `json:"scope_name,omitempty"`
	Operation             string              `json:"operation,omitempty"`
	TraceID               string              `json:"trace_id,omitempty"`
	SpanID                string              `json:"span_id,omitempty"`
	Method                string              `json:"method,omitempty"`
	Scheme                string              `json:"scheme,omitempty"`
	Host                  string              `json:"host,omitempty"`
	Path                  string              `json:"path,omitempty"`
	Route                 string              `json:"route,omitempty"`
	Query                 string              `json:"query,omitempty"`
	Status                int                 `json:"status,omitempty"`
	DurationMS            float64             `json:"duration_ms"`
	UserID                string              `json:"user_id,omitempty"`
	SessionID             string              `json:"session_id,omitempty"`
	ClientAddress         string              `json:"client_address,omitempty"`
	UserAgent             string              `json:"user_agent,omitempty"`
	RequestHeaders        map[string][]string `json:"request_headers,omitempty"`
	RequestBody           string              `json:"request_body,omitempty"`
	RequestBodyBase64     string              `json:"request_body_base64,omitempty"`
	RequestBodySize       int64               `json:"request_body_size"`
	RequestBodyTruncated  bool                `json:"request_body_truncated,omitempty"`
	ResponseHeaders       map[string][]string `json:"response_headers,omitempty"`
	ResponseBody          string              `json:"response_body,omitempty"`
	ResponseBodyBase64    string              `json:"response_body_base64,omitempty"`
	ResponseBodySize      int64               `json:"response_body_size"`
	ResponseBodyTruncated bool                `json:"response_body_truncated,omitempty"`
	ErrorType             string              `json:"error_type,omitempty"`
	Body                  any                 `json:"body,omitempty"`
	Attributes            map[string]any      `json:"attributes,omitempty"`
	Resource              map[string]any      `json:"resource,omitempty"`
}

func jsonRecord(r store.Record) jsonView {
	v := jsonView{
		ID: r.ID, Timestamp: r.Timestamp, EventName: r.EventName, SeverityNumber: r.SeverityNumber,
		SeverityText: r.SeverityText, ServiceName: r.ServiceName, ScopeName: r.ScopeName, Operation: r.Operation,
		TraceID: r.TraceID, SpanID: r.SpanID, Method: r.Method, Scheme: r.Scheme, Host: r.Host, Path: r.Path,
		Route: r.Route, Query: r.Query, Status: r.Status, DurationMS: r.DurationMS, UserID: r.UserID,
		SessionID: r.SessionID, ClientAddress: r.ClientAddress, UserAgent: r.UserAgent,
		RequestHeaders: r.RequestHeaders, RequestBodySize: r.RequestBodySize, RequestBodyTruncated: r.RequestBodyTruncated,
		ResponseHeaders: r.ResponseHeaders, ResponseBodySize: r.ResponseBodySize, ResponseBodyTruncated: r.ResponseBodyTruncated,
		ErrorType: r.ErrorType, Body: r.Body, Attributes: r.Attributes, Resource: r.Resource,
	}
	if !r.ObservedTimestamp.IsZero() {
		t := r.ObservedTimestamp
		v.ObservedTimestamp = &t
	}
	v.RequestBody, v.RequestBodyBase64 = bodyView(r.RequestBody, r.RequestBodyBinary)
	v.ResponseBody, v.ResponseBodyBase64 = bodyView(r.ResponseBody, r.ResponseBodyBinary)
	return v
}

func jsonRecords(rs []store.Record) []jsonView {
	out := make([]jsonView, len(rs))
	for i, r := range rs {
		out[i] = jsonRecord(r)
	}
	return out
}

func bodyView(text string, bin []byte) (string, string) {
	if len(bin) > 0 {
		if utf8.Valid(bin) {
			return string(bin), ""
		}
		return "", base64.StdEncoding.EncodeToString(bin)
	}
	return text, ""
}
