// Package echo is the echo workload (workloads/echo.py): the response body is the request body.
package echo

// Run returns its input. The slice is the server's own copy of the request body (protobuf
// unmarshalling copies bytes fields), so it is handed back without another copy.
func Run(payload []byte) ([]byte, error) {
	return payload, nil
}
