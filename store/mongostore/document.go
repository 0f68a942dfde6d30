package mongostore

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// document is a record as stored: the field names are the PostgreSQL
// column names; _id is the record id; ts a BSON date.
type document struct {
	ID                    string              `bson:"_id"`
	Timestamp             time.Time           `bson:"ts"`
	ObservedTimestamp     *time.Time          `bson:"observed_ts,omitempty"`
	EventName             string              `bson:"event_name,omitempty"`
	SeverityNumber        int                 `bson:"severity_number,omitempty"`
	SeverityText          string              `bson:"severity_text,omitempty"`
	ServiceName           string              `bson:"service_name,omitempty"`
	ScopeName             string              `bson:"scope_name,omitempty"`
	Operation             string              `bson:"operation,omitempty"`
	TraceID               string              `bson:"trace_id,omitempty"`
	SpanID                string              `bson:"span_id,omitempty"`
	Method                string              `bson:"method,omitempty"`
	Scheme                string              `bson:"scheme,omitempty"`
	Host                  string              `bson:"host,omitempty"`
	Path                  string              `bson:"path,omitempty"`
	Route                 string              `bson:"route,omitempty"`
	Query                 string              `bson:"query,omitempty"`
	Status                int                 `bson:"status,omitempty"`
	DurationMS            float64             `bson:"duration_ms,omitempty"`
	UserID                string              `bson:"user_id,omitempty"`
	SessionID             string              `bson:"session_id,omitempty"`
	ClientAddress         string              `bson:"client_address,omitempty"`
	UserAgent             string              `bson:"user_agent,omitempty"`
	RequestHeaders        map[string][]string `bson:"request_headers,omitempty"`
	RequestBody           string              `bson:"request_body,omitempty"`
	RequestBodyBinary     []byte              `bson:"request_body_binary,omitempty"`
	RequestBodySize       int64               `bson:"request_body_size,omitempty"`
	RequestBodyTruncated  bool                `bson:"request_body_truncated,omitempty"`
	ResponseHeaders       map[string][]string `bson:"response_headers,omitempty"`
	ResponseBody          string              `bson:"response_body,omitempty"`
	ResponseBodyBinary    []byte              `bson:"response_body_binary,omitempty"`
	ResponseBodySize      int64               `bson:"response_body_size,omitempty"`
	ResponseBodyTruncated bool                `bson:"response_body_truncated,omitempty"`
	ErrorType             string              `bson:"error_type,omitempty"`
	Body                  any                 `bson:"body,omitempty"`
	Attributes            map[string]any      `bson:"attributes,omitempty"`
	Resource              map[string]any      `bson:"resource,omitempty"`
}

// toDocument converts a normalized record, whose canonical id is id.
func toDocument(r *store.Record, id string) *document {
	d := &document{
		ID: id, Timestamp: r.Timestamp.UTC(), EventName: valid(r.EventName), SeverityNumber: r.SeverityNumber,
		SeverityText: valid(r.SeverityText), ServiceName: valid(r.ServiceName), ScopeName: valid(r.ScopeName),
		Operation: valid(r.Operation), TraceID: valid(r.TraceID), SpanID: valid(r.SpanID), Method: valid(r.Method),
		Scheme: valid(r.Scheme), Host: valid(r.Host), Path: valid(r.Path), Route: valid(r.Route), Query: valid(r.Query),
		Status: r.Status, DurationMS: r.DurationMS, UserID: valid(r.UserID), SessionID: valid(r.SessionID),
		ClientAddress: valid(r.ClientAddress), UserAgent: valid(r.UserAgent),
		RequestHeaders: encodeHeaders(r.RequestHeaders), RequestBodySize: r.RequestBodySize, RequestBodyTruncated: r.RequestBodyTruncated,
		ResponseHeaders: encodeHeaders(r.ResponseHeaders), ResponseBodySize: r.ResponseBodySize, ResponseBodyTruncated: r.ResponseBodyTruncated,
		ErrorType: valid(r.ErrorType), RequestBody: r.RequestBody, RequestBodyBinary: r.RequestBodyBinary,
		ResponseBody: r.ResponseBody, ResponseBodyBinary: r.ResponseBodyBinary,
	}
	if !r.ObservedTimestamp.IsZero() {
		t := r.ObservedTimestamp.UTC()
		d.ObservedTimestamp = &t
	}
	if r.LogBody != nil {
		d.Body = encodeValue(r.LogBody)
	}
	if len(r.Attributes) > 0 {
		d.Attributes = encodeValue(r.Attributes).(map[string]any)
	}
	if len(r.Resource) > 0 {
		d.Resource = encodeValue(r.Resource).(map[string]any)
	}
	return d
}

func (d *document) record() store.Record {
	r := store.Record{
		ID: d.ID, Timestamp: d.Timestamp.UTC(), EventName: d.EventName, SeverityNumber: d.SeverityNumber,
		SeverityText: d.SeverityText, ServiceName: d.ServiceName, ScopeName: d.ScopeName, Operation: d.Operation,
		TraceID: d.TraceID, SpanID: d.SpanID, Method: d.Method, Scheme: d.Scheme, Host: d.Host, Path: d.Path,
		Route: d.Route, Query: d.Query, Status: d.Status, DurationMS: d.DurationMS, UserID: d.UserID,
		SessionID: d.SessionID, ClientAddress: d.ClientAddress, UserAgent: d.UserAgent,
		RequestHeaders: decodeHeaders(d.RequestHeaders), RequestBody: d.RequestBody, RequestBodyBinary: d.RequestBodyBinary,
		RequestBodySize: d.RequestBodySize, RequestBodyTruncated: d.RequestBodyTruncated,
		ResponseHeaders: decodeHeaders(d.ResponseHeaders), ResponseBody: d.ResponseBody, ResponseBodyBinary: d.ResponseBodyBinary,
		ResponseBodySize: d.ResponseBodySize, ResponseBodyTruncated: d.ResponseBodyTruncated, ErrorType: d.ErrorType,
	}
	if d.ObservedTimestamp != nil {
		r.ObservedTimestamp = d.ObservedTimestamp.UTC()
	}
	if d.Body != nil {
		r.LogBody = decodeValue(d.Body)
	}
	if d.Attributes != nil {
		r.Attributes = decodeValue(d.Attributes).(map[string]any)
	}
	if d.Resource != nil {
		r.Resource = decodeValue(d.Resource).(map[string]any)
	}
	return r
}

// valid fixes invalid UTF-8, which BSON strings cannot hold.
func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

var errTooLarge = errors.New("attributes and body dropped: document over 16 MiB with its bodies cut")

// maxDocument is the size a document is cut to: MongoDB refuses documents
// over 16 MiB; the margin leaves room for the insert command around it.
const maxDocument = 16<<20 - 64<<10

// fit returns the document's encoding, cutting its bodies (and flagging
// them truncated) when it is over the limit, and dropping attributes and
// body if even that is not enough (dropped is then set).
func fit(d *document) (raw []byte, dropped bool, err error) {
	b, err := bson.Marshal(d)
	if err != nil || len(b) <= maxDocument {
		return b, false, err
	}
	// The margin covers the truncated flags the cut adds.
	over := len(b) - maxDocument + 1024
	for _, body := range []struct {
		s     *string
		bin   *[]byte
		trunc *bool
	}{
		{&d.ResponseBody, &d.ResponseBodyBinary, &d.ResponseBodyTruncated},
		{&d.RequestBody, &d.RequestBodyBinary, &d.RequestBodyTruncated},
	} {
		if over <= 0 {
			break
		}
		switch {
		case len(*body.s) > 0:
			cut := max(len(*body.s)-over, 0)
			for cut > 0 && !utf8.RuneStart((*body.s)[cut]) {
				cut--
			}
			over -= len(*body.s) - cut
			*body.s = (*body.s)[:cut]
			*body.trunc = true
		case len(*body.bin) > 0:
			cut := max(len(*body.bin)-over, 0)
			over -= len(*body.bin) - cut
			*body.bin = (*body.bin)[:cut]
			*body.trunc = true
		}
	}
	if b, err = bson.Marshal(d); err != nil || len(b) <= maxDocument {
		return b, false, err
	}
	d.Attributes = map[string]any{encodeKey(auditconv.StoreError): errTooLarge.Error()}
	d.Body = nil
	b, err = bson.Marshal(d)
	return b, true, err
}
