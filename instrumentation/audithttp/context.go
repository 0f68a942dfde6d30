package audithttp

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
)

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// SetUserID sets the user.id of the record of the request whose context is
// ctx; call it where authentication runs. It overrides WithUserID and is a
// no-op on a context that audithttp did not make.
func SetUserID(ctx context.Context, id string) {
	if ex := exchangeFrom(ctx); ex != nil {
		ex.mu.Lock()
		ex.userID, ex.userIDSet = id, true
		ex.mu.Unlock()
	}
}

// AddAttributes adds attributes to the record of the request whose context
// is ctx. It is safe for concurrent use and a no-op on a context that
// audithttp did not make.
func AddAttributes(ctx context.Context, kv ...attribute.KeyValue) {
	if ex := exchangeFrom(ctx); ex != nil && len(kv) > 0 {
		ex.mu.Lock()
		ex.extra = append(ex.extra, kv...)
		ex.mu.Unlock()
	}
}

// RecordID returns the audit.record.id of the record of the request whose
// context is ctx, or "" on a context audithttp did not make. Returning it to
// the client (for example in an X-Audit-Record-Id header) lets a support
// request be matched to its record.
func RecordID(ctx context.Context) string {
	if ex := exchangeFrom(ctx); ex != nil {
		return ex.id
	}
	return ""
}
