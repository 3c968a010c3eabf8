package books

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// String encodes the cursor as an opaque URL-safe token. Clients must not
// look inside; the format may change between releases.
func (c *Cursor) String() string {
	raw := "1:" + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a token made by Cursor.String. Anything else is an
// EINVALID error.
func ParseCursor(token string) (*Cursor, error) {
	bad := Errorf(EINVALID, "cursor is not valid; use nextCursor from a previous page")
	if len(token) > 128 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "1" {
		return nil, bad
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, bad
	}
	id, ok := ParseID(parts[2])
	if !ok {
		return nil, bad
	}
	t := time.UnixMicro(micros).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return nil, bad
	}
	return &Cursor{CreatedAt: t, ID: id}, nil
}
