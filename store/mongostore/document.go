package mongostore

import (
	"errors"
	"reflect"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/store"
)

// document is a record as stored: the record's fields under their BSON
// names (the PostgreSQL column names), ts a BSON date, empty fields left
// out, and _id the canonical record id.
type document struct {
	ID           string `bson:"_id"`
	store.Record `bson:",inline"`
}

// toDocument converts a normalized record, whose canonical id is id: its
// strings made valid UTF-8 and the keys of its headers, body, attributes
// and resource encoded. r is not modified.
func toDocument(r *store.Record, id string) *document {
	d := &document{ID: id, Record: *r}
	validStrings(&d.Record)
	d.RequestHeaders = encodeHeaders(d.RequestHeaders)
	d.ResponseHeaders = encodeHeaders(d.ResponseHeaders)
	d.LogBody = encodeValue(d.LogBody)
	d.Attributes = encodeValue(d.Attributes).(map[string]any)
	d.Resource = encodeValue(d.Resource).(map[string]any)
	return d
}

// record returns the record d holds, its keys decoded.
func (d *document) record() store.Record {
	r := d.Record
	r.ID = d.ID
	r.RequestHeaders = decodeHeaders(r.RequestHeaders)
	r.ResponseHeaders = decodeHeaders(r.ResponseHeaders)
	r.LogBody = decodeValue(r.LogBody)
	if r.Attributes != nil {
		r.Attributes = decodeValue(r.Attributes).(map[string]any)
	}
	if r.Resource != nil {
		r.Resource = decodeValue(r.Resource).(map[string]any)
	}
	return r
}

// validStrings makes r's string fields valid UTF-8, which BSON strings
// must be; the bodies already are, and within body, attributes and
// resource Normalize has turned such strings into bytes.
func validStrings(r *store.Record) {
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String && !utf8.ValidString(f.String()) {
			f.SetString(strings.ToValidUTF8(f.String(), "\uFFFD"))
		}
	}
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
	d.LogBody = nil
	b, err = bson.Marshal(d)
	return b, true, err
}
