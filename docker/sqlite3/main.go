// Command sqlite3 is the read-only subset of the sqlite3 shell that the README's watch loops
// use, for images without a shell or libc: `sqlite3 DB -line 'SQL'` prints every row as
// sqlite3 -line does (one "column = value" line per column, a blank line between rows).
// Built on modernc.org/sqlite, so it is a static binary like the services.
//
//	sqlite3 DB [-line] SQL
package main

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	_ "modernc.org/sqlite"
)

func main() {
	var args []string
	for _, a := range os.Args[1:] {
		if a != "-line" { // the only output mode there is
			args = append(args, a)
		}
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sqlite3 DB [-line] SQL (read-only)")
		os.Exit(2)
	}
	if err := run(args[0], args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(path, query string) error {
	if _, err := os.Stat(path); err != nil {
		return err // never create a database
	}
	q := url.Values{}
	q.Add("_pragma", "query_only(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	width := 0
	for _, c := range cols {
		width = max(width, len(c))
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out strings.Builder
	for n := 0; rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if n > 0 {
			out.WriteByte('\n')
		}
		for i, c := range cols {
			fmt.Fprintf(&out, "%*s = %s\n", width, c, text(vals[i]))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(out.String())
	return err
}

// text formats a value as the sqlite3 shell does: NULL as nothing, reals with up to 15
// significant digits.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	case float64:
		return strconv.FormatFloat(v, 'g', 15, 64)
	default:
		return fmt.Sprint(v)
	}
}
