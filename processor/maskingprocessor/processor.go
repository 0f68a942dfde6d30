package maskingprocessor

import (
	"context"
	"fmt"
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/internal/mask"
	"github.com/otelaudit/otelaudit/processor/maskingprocessor/internal/metadata"
)

type maskingProcessor struct {
	m        *mask.Masker
	maxDepth int
	maxSize  int
	masked   *maskedCounter
}

func newProcessor(set processor.Settings, cfg *Config) (*maskingProcessor, error) {
	mc, err := cfg.maskConfig()
	if err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	m, err := mask.New(mc)
	if err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("masking: create telemetry: %w", err)
	}
	return &maskingProcessor{
		m:        m,
		maxDepth: cfg.MaxDepth,
		maxSize:  cfg.MaxSize,
		masked:   newMaskedCounter(tb.ProcessorMaskingValuesMasked),
	}, nil
}

func (p *maskingProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var counts maskedCounts
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		counts[placeAttribute] += p.maskMap(rl.Resource().Attributes(), 0)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				p.maskRecord(lrs.At(k), &counts)
			}
		}
	}
	p.masked.add(ctx, &counts)
	return ld, nil
}

// attribute roles, by key, of the audit record contract.
type role int

const (
	roleGeneric    role = iota // key check, then walk the value
	roleSkip                   // ids, numbers and flags: nothing to mask
	roleSession                // session.id: kept when already a keyed hash
	roleDetect                 // names and addresses: detectors only
	roleFree                   // free text: key patterns and detectors
	rolePath                   // url.path: route wildcards, then free text
	roleQuery                  // url.query
	roleURL                    // a URL whose query is masked
	roleReqBody                // http.request.body.content
	roleRespBody               // http.response.body.content
	roleReqHeader              // http.request.header.*
	roleRespHeader             // http.response.header.*
)

var roles = map[string]role{
	auditconv.RecordID: roleSkip, auditconv.SessionID: roleSession, auditconv.ServerPort: roleSkip,
	auditconv.HTTPResponseStatusCode: roleSkip, auditconv.HTTPServerRequestDuration: roleSkip,
	auditconv.HTTPRequestBodySize: roleSkip, auditconv.HTTPResponseBodySize: roleSkip,
	auditconv.RequestBodyTruncated: roleSkip, auditconv.ResponseBodyTruncated: roleSkip,
	auditconv.SamplingRate: roleSkip, auditconv.MaskingCount: roleSkip,
	auditconv.HTTPRequestMethod: roleSkip, auditconv.URLScheme: roleSkip,

	auditconv.Operation: roleDetect, auditconv.ServerAddress: roleDetect,
	auditconv.HTTPRoute: roleDetect, auditconv.ClientAddress: roleDetect,
	auditconv.UserID: roleDetect, auditconv.ErrorType: roleDetect, auditconv.ExceptionType: roleDetect,
	auditconv.UserAgentOriginal: roleFree, auditconv.ExceptionMessage: roleFree, auditconv.ExceptionStacktrace: roleFree,
	auditconv.URLPath: rolePath,

	auditconv.URLQuery: roleQuery,
	auditconv.URLFull:  roleURL, auditconv.URLOriginal: roleURL, auditconv.HTTPURL: roleURL, auditconv.HTTPTarget: roleURL,

	auditconv.HTTPRequestBodyContent:  roleReqBody,
	auditconv.HTTPResponseBodyContent: roleRespBody,
}

func roleOf(key string) role {
	if r, ok := roles[key]; ok {
		return r
	}
	switch {
	case strings.HasPrefix(key, auditconv.HTTPRequestHeaderPrefix):
		return roleReqHeader
	case strings.HasPrefix(key, auditconv.HTTPResponseHeaderPrefix):
		return roleRespHeader
	}
	return roleGeneric
}

var (
	reqContentType  = auditconv.RequestHeaderKey("Content-Type")
	respContentType = auditconv.ResponseHeaderKey("Content-Type")
)

func (p *maskingProcessor) maskRecord(lr plog.LogRecord, counts *maskedCounts) {
	attrs := lr.Attributes()
	count := 0
	var reqCT, respCT, route string
	if v, ok := attrs.Get(auditconv.HTTPRoute); ok {
		route = v.AsString()
	}
	if v, ok := attrs.Get(reqContentType); ok {
		reqCT = firstString(v)
	}
	if v, ok := attrs.Get(respContentType); ok {
		respCT = firstString(v)
	}
	for k, v := range attrs.All() {
		r, before := roleOf(k), count
		switch r {
		case roleSkip:
		case roleSession:
			if v.Type() != pcommon.ValueTypeStr || !auditconv.IsKeyedHash(v.Str()) {
				count += p.maskValue(k, v, 0) // a raw session token from a producer that did not hash it
			}
		case roleDetect:
			count += p.maskString(v, p.m.String)
		case roleFree:
			count += p.maskString(v, p.m.Free)
		case rolePath:
			count += p.maskString(v, func(s string) (string, int) { return p.m.Path(route, s) })
		case roleQuery:
			count += p.maskString(v, p.m.Query)
		case roleURL:
			count += p.maskString(v, p.m.URL)
		case roleReqBody:
			count += p.maskBody(v, reqCT, attrs, auditconv.RequestBodyTruncated)
		case roleRespBody:
			count += p.maskBody(v, respCT, attrs, auditconv.ResponseBodyTruncated)
		case roleReqHeader:
			count += p.maskHeader(k[len(auditconv.HTTPRequestHeaderPrefix):], v)
		case roleRespHeader:
			count += p.maskHeader(k[len(auditconv.HTTPResponseHeaderPrefix):], v)
		default:
			count += p.maskValue(k, v, 0)
		}
		counts[placeOf(r)] += count - before
	}
	n := p.maskValue("", lr.Body(), 0)
	counts[placeLogBody] += n
	count += n
	if count > 0 {
		if prev, ok := attrs.Get(auditconv.MaskingCount); ok && prev.Type() == pcommon.ValueTypeInt {
			count += int(prev.Int())
		}
		attrs.PutInt(auditconv.MaskingCount, int64(count))
	}
}

// maskString masks a string value in place with f.
func (p *maskingProcessor) maskString(v pcommon.Value, f func(string) (string, int)) int {
	if v.Type() != pcommon.ValueTypeStr {
		return p.maskValue("", v, 0)
	}
	out, n := f(v.Str())
	if n > 0 {
		v.SetStr(out)
	}
	return n
}

// maskBody masks an HTTP body. A body longer than max_size is cut there by
// the engine; the record then says so with its truncated flag, as when
// audithttp cut it, so no store claims a cut body is whole.
func (p *maskingProcessor) maskBody(v pcommon.Value, contentType string, attrs pcommon.Map, truncatedKey string) int {
	if (v.Type() == pcommon.ValueTypeStr && len(v.Str()) > p.maxSize) ||
		(v.Type() == pcommon.ValueTypeBytes && v.Bytes().Len() > p.maxSize) {
		attrs.PutBool(truncatedKey, true)
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		out, n := p.m.Body(contentType, unsafe.Slice(unsafe.StringData(s), len(s)))
		if n > 0 {
			v.SetStr(ownedString(out))
		}
		return n
	case pcommon.ValueTypeBytes:
		out, n := p.m.BodyInPlace(contentType, v.Bytes().AsRaw()) // AsRaw is a copy
		if n > 0 {
			v.Bytes().FromRaw(out)
		}
		return n
	}
	return p.maskValue("", v, 0)
}

func (p *maskingProcessor) maskHeader(name string, v pcommon.Value) int {
	if v.Type() != pcommon.ValueTypeSlice {
		if p.m.SensitiveKey(name) {
			return p.maskString(v, func(s string) (string, int) { return p.m.Value(name, s) })
		}
		return p.maskString(v, p.m.Free)
	}
	s := v.Slice()
	sensitive := p.m.SensitiveKey(name)
	n := 0
	for i := 0; i < s.Len(); i++ {
		el := s.At(i)
		if sensitive {
			if out, k := p.m.Value(name, el.AsString()); k > 0 {
				el.SetStr(out)
				n += k
			}
			continue
		}
		n += p.maskString(el, p.m.Free)
	}
	return n
}

// maskValue masks any value: whole when key is sensitive; strings by the
// text patterns (JSON when they hold JSON) and detectors; maps and slices
// recursively, past the depth limit whole.
func (p *maskingProcessor) maskValue(key string, v pcommon.Value, depth int) int {
	if key != "" && p.m.SensitiveKey(key) {
		if v.Type() == pcommon.ValueTypeEmpty {
			return 0
		}
		out, n := p.m.Value(key, v.AsString())
		if n > 0 {
			v.SetStr(out)
		}
		return n
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		out, n := p.maskText(unsafe.Slice(unsafe.StringData(s), len(s)))
		if n > 0 {
			v.SetStr(ownedString(out))
		}
		return n
	case pcommon.ValueTypeBytes:
		out, n := p.maskText(v.Bytes().AsRaw())
		if n > 0 {
			v.Bytes().FromRaw(out)
		}
		return n
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		if depth >= maxStoredDepth {
			return p.flatten(v)
		}
		if depth >= p.maxDepth {
			v.SetStr(p.m.Redact(nil))
			return 1
		}
		if v.Type() == pcommon.ValueTypeMap {
			return p.maskMap(v.Map(), depth+1)
		}
		n := 0
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			n += p.maskValue("", s.At(i), depth+1)
		}
		return n
	}
	return 0
}

func (p *maskingProcessor) maskMap(m pcommon.Map, depth int) int {
	n := 0
	for k, v := range m.All() {
		n += p.maskValue(k, v, depth)
	}
	return n
}

func (p *maskingProcessor) maskText(b []byte) ([]byte, int) {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return p.m.JSON(b)
		}
		return p.m.Text(b)
	}
	return b, 0
}

func firstString(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeSlice {
		if v.Slice().Len() > 0 {
			return v.Slice().At(0).AsString()
		}
		return ""
	}
	return v.AsString()
}

// ownedString returns b, a buffer the masker made for its result (it
// returns a new one whenever it masks something, and never writes it
// again), as a string without a second copy.
func ownedString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
