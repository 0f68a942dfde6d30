package samplingprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelaudit/otelaudit/auditconv"
	"github.com/otelaudit/otelaudit/processor/samplingprocessor/internal/metadata"
)

type samplingProcessor struct {
	rates         Rates
	keepErrors    bool
	decision      string
	dropUnmatched bool

	dropped  metric.Int64Counter
	attrSets sync.Map // dropKey -> metric.MeasurementOption
}

func newProcessor(set processor.Settings, cfg *Config) (*samplingProcessor, error) {
	rates, err := ParseRates(cfg.Rates)
	if err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("sampling: create telemetry: %w", err)
	}
	return &samplingProcessor{
		rates:         rates,
		keepErrors:    cfg.KeepErrors,
		decision:      cfg.Decision,
		dropUnmatched: cfg.Unmatched == UnmatchedDrop,
		dropped:       tb.ProcessorSamplingDroppedLogRecords,
	}, nil
}

// dropKey labels the dropped-records metric. Methods outside the known set
// are folded into _OTHER so that clients cannot grow the label space.
type dropKey struct {
	method string
	class  int // status / 100; 0 when unknown
}

func (p *samplingProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var drops map[dropKey]int64
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		before := rl.ScopeLogs().Len()
		droppedHere := false
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			n := sl.LogRecords().Len()
			if n == 0 {
				return false // not ours to remove
			}
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				keep, key := p.keep(lr)
				if !keep {
					if drops == nil {
						drops = map[dropKey]int64{}
					}
					drops[key]++
				}
				return !keep
			})
			if sl.LogRecords().Len() < n {
				droppedHere = true
			}
			return sl.LogRecords().Len() == 0
		})
		return droppedHere && before > 0 && rl.ScopeLogs().Len() == 0
	})
	for k, n := range drops {
		p.dropped.Add(ctx, n, p.labels(k))
	}
	if len(drops) > 0 && ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

func (p *samplingProcessor) labels(k dropKey) metric.AddOption {
	if v, ok := p.attrSets.Load(k); ok {
		return v.(metric.AddOption)
	}
	class := "unknown"
	if k.class >= 1 && k.class <= 5 {
		class = strconv.Itoa(k.class) + "xx"
	}
	opt := metric.WithAttributeSet(attribute.NewSet(
		attribute.String(auditconv.HTTPRequestMethod, k.method),
		attribute.String(auditconv.HTTPResponseStatusClass, class),
	))
	p.attrSets.Store(k, opt)
	return opt
}

// keep decides one record and, when it is kept at a rate below 1, records
// the rate on it.
func (p *samplingProcessor) keep(lr plog.LogRecord) (bool, dropKey) {
	attrs := lr.Attributes()
	var (
		method, id   string
		status       int
		hasError     bool
		prior        float64
		hasPriorRate bool
	)
	for k, v := range attrs.All() {
		switch k {
		case auditconv.HTTPRequestMethod:
			method = v.Str()
		case auditconv.HTTPResponseStatusCode:
			status = intValue(v)
		case auditconv.ErrorType:
			hasError = true
		case auditconv.RecordID:
			id = v.Str()
		case auditconv.SamplingRate:
			if v.Type() == pcommon.ValueTypeDouble {
				prior, hasPriorRate = v.Double(), true
			}
		}
	}
	key := dropKey{method: knownMethod(method), class: status / 100}
	if method == "" {
		return !p.dropUnmatched, key
	}
	if p.keepErrors && (status >= 500 || hasError) {
		return true, key
	}
	rate := p.rates.Rate(method, status)
	if rate >= 1 {
		return true, key
	}
	if rate <= 0 || p.uniform(lr, id) >= rate {
		return false, key
	}
	if hasPriorRate && prior > 0 && prior <= 1 {
		rate *= prior // sampled again after an earlier tier
	}
	attrs.PutDouble(auditconv.SamplingRate, rate)
	return true, key
}

// uniform returns a number in [0,1) that is a deterministic function of
// the configured decision source, falling back to the record id, then to
// the record's timestamps, so that a retried batch decides the same way.
func (p *samplingProcessor) uniform(lr plog.LogRecord, id string) float64 {
	switch p.decision {
	case DecisionRandom:
		return rand.Float64()
	case DecisionTraceID:
		if tid := lr.TraceID(); !tid.IsEmpty() {
			return toUnit(hashBytes(tid[:]))
		}
	}
	if id != "" {
		return toUnit(hashString(id))
	}
	return toUnit(mix(uint64(lr.Timestamp()) ^ mix(uint64(lr.ObservedTimestamp()))))
}

// KeepRecordID reports whether a record with audit.record.id id is kept at
// rate under decision record_id. The decision is stable across processes and
// versions (changing it would resample history), so tools can predict it.
func KeepRecordID(id string, rate float64) bool {
	return rate >= 1 || (rate > 0 && toUnit(hashString(id)) < rate)
}

func intValue(v pcommon.Value) int {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return int(v.Int())
	case pcommon.ValueTypeDouble:
		return int(v.Double())
	case pcommon.ValueTypeStr:
		n, _ := strconv.Atoi(v.Str())
		return n
	}
	return 0
}

func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY":
		return m
	case "":
		return ""
	}
	return "_OTHER"
}

// FNV-1a followed by the splitmix64 finalizer: fast, stable across
// processes and versions, and well mixed for sequential ids (UUIDv7).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return mix(h)
}

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return mix(h)
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func toUnit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
