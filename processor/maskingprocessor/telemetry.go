package maskingprocessor

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// place is where a masked value was found: the `place` attribute of
// otelcol_processor_masking_values_masked.
type place int

const (
	placeAttribute place = iota
	placeHeader
	placeQuery
	placeBody
	placeLogBody
	numPlaces
)

// placeNames are the values of the `place` attribute, as in metadata.yaml.
var placeNames = [numPlaces]string{
	placeAttribute: "attribute",
	placeHeader:    "header",
	placeQuery:     "query",
	placeBody:      "body",
	placeLogBody:   "log_body",
}

// placeOf is the place of an attribute of the given role.
func placeOf(r role) place {
	switch r {
	case roleReqHeader, roleRespHeader:
		return placeHeader
	case roleQuery, roleURL:
		return placeQuery
	case roleReqBody, roleRespBody:
		return placeBody
	}
	return placeAttribute
}

// maskedCounts counts the values masked in one batch, by place.
type maskedCounts [numPlaces]int

// maskedCounter adds a batch's counts to the values-masked counter; the
// attribute sets are built once.
type maskedCounter struct {
	counter metric.Int64Counter
	opts    [numPlaces]metric.AddOption
}

func newMaskedCounter(c metric.Int64Counter) *maskedCounter {
	mc := &maskedCounter{counter: c}
	for i, name := range placeNames {
		mc.opts[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("place", name)))
	}
	return mc
}

func (mc *maskedCounter) add(ctx context.Context, counts *maskedCounts) {
	for i, n := range counts {
		if n > 0 {
			mc.counter.Add(ctx, int64(n), mc.opts[i])
		}
	}
}
