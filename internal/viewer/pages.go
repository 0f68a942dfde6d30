package viewer

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

// list is the record list: filters, timeline, one page of records.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now().UTC()
	v, err := parseView(r.URL.Query(), now)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	f := v.Filter
	f.Limit = s.cfg.PageSize
	if a := r.URL.Query().Get("after"); a != "" {
		if f.After, err = parseCursor(a); err != nil {
			s.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
	}
	recs, err := s.cfg.Store.Query(r.Context(), f)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	tl, err := s.timeline(r, v, now)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	var next string
	if len(recs) == f.Limit {
		next = v.link("/", "after", encodeCursor(store.CursorAfter(recs[len(recs)-1])))
	}
	integrity, integrityErr := s.verify(r, recs)
	s.render(w, r, http.StatusOK, "list", map[string]any{
		"View": v, "Records": recs, "Timeline": tl, "Next": next, "Paged": !f.After.IsZero(),
		"First": v.link("/"), "CSV": v.link("/export.csv"), "JSONL": v.link("/export.jsonl"),
		"Presets": rangePresets, "Integrity": integrity, "IntegrityError": integrityErr,
		"Methods": []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"},
	})
}

// verify asks the verifier about recs; nil without one.
func (s *Server) verify(r *http.Request, recs []store.Record) (map[string]Status, string) {
	if s.cfg.Verifier == nil || len(recs) == 0 {
		return nil, ""
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	st, err := s.cfg.Verifier.VerifyRecords(r.Context(), ids)
	if err != nil {
		return nil, err.Error()
	}
	return st, ""
}

// timelineView is the timeline of the list: stacked bars by status class.
type timelineView struct {
	Since, Until time.Time
	Bars         []bar
	Max          int64
}

type bar struct {
	Href     string
	Title    string
	X        int
	Segments []segment
}

type segment struct {
	Class string
	Y, H  int
}

// timelineHeight is the bars' height in SVG units.
const timelineHeight = 80

var classNames = [6]string{"none", "1xx", "2xx", "3xx", "4xx", "5xx"}

func (s *Server) timeline(r *http.Request, v view, now time.Time) (timelineView, error) {
	f := v.Filter
	if f.Until.IsZero() {
		f.Until = now
	}
	if f.Since.IsZero() {
		f.Since = f.Until.Add(-DefaultTimelineRange)
	}
	if !f.Since.Before(f.Until) {
		return timelineView{}, nil
	}
	buckets, err := store.Timeline(r.Context(), s.cfg.Store, f, timelineBuckets)
	if err != nil {
		return timelineView{}, err
	}
	tv := timelineView{Since: f.Since, Until: f.Until}
	for _, b := range buckets {
		var n int64
		for _, c := range b.ByClass {
			n += c
		}
		tv.Max = max(tv.Max, n)
	}
	for i, b := range buckets {
		br := bar{Href: v.zoom(b.Start, b.End), X: i * 10}
		y := timelineHeight
		var total int64
		for c := 5; c >= 0; c-- {
			total += b.ByClass[c]
		}
		br.Title = b.Start.UTC().Format("2006-01-02 15:04") + " – " + b.End.UTC().Format("15:04") + ": " + itoa(total) + " records"
		for c := 0; c <= 5; c++ {
			if b.ByClass[c] == 0 || tv.Max == 0 {
				continue
			}
			h := max(1, int(b.ByClass[c]*timelineHeight/tv.Max))
			y -= h
			br.Segments = append(br.Segments, segment{Class: classNames[c], Y: y, H: h})
			br.Title += ", " + classNames[c] + " " + itoa(b.ByClass[c])
		}
		tv.Bars = append(tv.Bars, br)
	}
	return tv, nil
}

// record shows one record in full.
func (s *Server) record(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.get(w, r)
	if !ok {
		return
	}
	integrity, integrityErr := s.verify(r, []store.Record{rec})
	ts := rec.Timestamp.UTC()
	around := view{Values: map[string][]string{"user": {rec.UserID}}}
	s.render(w, r, http.StatusOK, "record", map[string]any{
		"R":              rec,
		"Curl":           curlCommand(rec),
		"SameTrace":      view{Values: map[string][]string{"trace_id": {rec.TraceID}}}.link("/"),
		"SameUser":       around.zoom(ts.Add(-15*time.Minute), ts.Add(15*time.Minute)),
		"Integrity":      integrity[rec.ID],
		"IntegrityError": integrityErr,
		"Attributes":     prettyJSON(rec.Attributes),
		"Resource":       prettyJSON(rec.Resource),
		"LogBody":        prettyJSON(rec.LogBody),
	})
}

// raw serves a record as the JSON the store holds.
func (s *Server) raw(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.get(w, r)
	if !ok {
		return
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(append(b, '\n'))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) (store.Record, bool) {
	id := r.PathValue("id")
	if !isRecordID(id) {
		s.fail(w, r, http.StatusNotFound, "not a record id: "+id)
		return store.Record{}, false
	}
	rec, err := s.cfg.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "no record "+id)
		return store.Record{}, false
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return store.Record{}, false
	}
	return rec, true
}
