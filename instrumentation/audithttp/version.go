package audithttp

// Version is the instrumentation version recorded in the scope of every
// record.
const Version = "0.1.0"
