package viewer

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/otelaudit/otelaudit/store"
)

// exportPage is how many records one store query of an export fetches.
const exportPage = 1000

// csvColumns are the columns of the CSV export, those of the list and the
// few more a ticket needs.
var csvColumns = []string{"id", "ts", "method", "status", "duration_ms", "user_id", "client_address", "service_name",
	"host", "path", "route", "query", "trace_id", "request_body_size", "response_body_size", "error_type"}

func csvRow(r store.Record) []string {
	row := []string{r.ID, r.Timestamp.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), r.Method, strconv.Itoa(r.Status),
		strconv.FormatFloat(r.DurationMS, 'f', -1, 64), r.UserID, r.ClientAddress, r.ServiceName,
		r.Host, r.Path, r.Route, r.Query, r.TraceID, strconv.FormatInt(r.RequestBodySize, 10),
		strconv.FormatInt(r.ResponseBodySize, 10), r.ErrorType}
	for i, v := range row {
		// A cell a spreadsheet would take for a formula is kept as text.
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			row[i] = "'" + v
		}
	}
	return row
}

func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	var cw *csv.Writer
	s.export(w, r, "text/csv; charset=utf-8", "audit.csv",
		func(out io.Writer) error {
			cw = csv.NewWriter(out)
			return cw.Write(csvColumns)
		},
		func(rec store.Record) error { return cw.Write(csvRow(rec)) },
		func() error { cw.Flush(); return cw.Error() })
}

func (s *Server) exportJSONL(w http.ResponseWriter, r *http.Request) {
	var enc *json.Encoder
	s.export(w, r, "application/x-ndjson; charset=utf-8", "audit.jsonl",
		func(out io.Writer) error { enc = json.NewEncoder(out); return nil },
		func(rec store.Record) error { return enc.Encode(rec) },
		func() error { return nil })
}

// export streams the records of the request's filter, page by page, up
// to ExportMaxRows; the trailer X-Export-Truncated says whether the cap
// cut it.
func (s *Server) export(w http.ResponseWriter, r *http.Request, contentType, name string,
	start func(io.Writer) error, row func(store.Record) error, flush func() error) {
	v, err := parseView(r.URL.Query(), s.cfg.Now().UTC())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	f := v.Filter
	// The first page is read before any byte is sent, so that a store
	// failure is an error page, not a cut file.
	f.Limit = min(exportPage, s.cfg.ExportMaxRows+1)
	recs, err := s.cfg.Store.Query(r.Context(), f)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Trailer", "X-Export-Truncated")
	rc := http.NewResponseController(w)
	if err := start(w); err != nil {
		return
	}
	n, truncated := 0, false
	for len(recs) > 0 {
		for _, rec := range recs {
			if n == s.cfg.ExportMaxRows {
				truncated = true
				break
			}
			if err := row(rec); err != nil {
				return // the client went away
			}
			n++
		}
		if truncated || len(recs) < f.Limit {
			break
		}
		if flush() != nil || rc.Flush() != nil {
			return
		}
		f.After = store.CursorAfter(recs[len(recs)-1])
		f.Limit = min(exportPage, s.cfg.ExportMaxRows-n+1)
		if recs, err = s.cfg.Store.Query(r.Context(), f); err != nil {
			// Headers are gone: the trailer tells a careful client, and
			// the cut file is the visible sign.
			w.Header().Set("X-Export-Truncated", "error: "+err.Error())
			flush()
			return
		}
	}
	flush()
	w.Header().Set("X-Export-Truncated", strconv.FormatBool(truncated))
}
