package gateway

import (
	"net/url"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// checkPath refuses a path an upstream could read differently from the gateway: a
// control character (%00 among them), a "." or ".." segment (written plainly or
// percent-encoded), or an encoded "/" or "\" (which would hide a segment boundary).
func checkPath(u *url.URL) error {
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		return invalidPath("the path must start with /")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return invalidPath("the path holds a control character")
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return invalidPath("the path holds a . or .. segment")
		}
	}
	raw := strings.ToLower(u.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") {
		return invalidPath("the path holds an encoded / or \\")
	}
	return nil
}

func invalidPath(msg string) error {
	return failure.New(failure.Invalid, "invalid_path", msg)
}
