package http

// Exported for the fuzz tests in package http_test (decode_fuzz_test.go).
var (
	ParseBookInput = parseBookInput
	ParseListQuery = parseListQuery
)
