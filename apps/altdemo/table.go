package altdemo

import (
	"slices"
	"sync"
	"time"
)

// Table is the registry of the sessions an app has served, for the
// /sessions page: session stores cannot be listed, so the app notes
// each session it sees. It is safe for concurrent use.
type Table struct {
	max  int
	mu   sync.Mutex
	rows map[string]Row
}

// Row is one session in the table.
type Row struct {
	ID       string    // the session's label (not its token)
	User     string    // "" when nobody is logged in
	Requests int       // requests the session has made
	Created  time.Time // when the session started
	Seen     time.Time // its last request
}

// NewTable returns a table keeping the max sessions seen last (100 when
// max <= 0).
func NewTable(max int) *Table {
	if max <= 0 {
		max = 100
	}
	return &Table{max: max, rows: map[string]Row{}}
}

// Note records a request of the session row.ID; the oldest row goes
// when the table is full.
func (t *Table) Note(row Row) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows[row.ID] = row
	if len(t.rows) <= t.max {
		return
	}
	var oldest Row
	for _, r := range t.rows {
		if oldest.ID == "" || r.Seen.Before(oldest.Seen) {
			oldest = r
		}
	}
	delete(t.rows, oldest.ID)
}

// Forget removes the session id (it was logged out).
func (t *Table) Forget(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rows, id)
}

// Rows returns the sessions, the most recently seen first.
func (t *Table) Rows() []Row {
	t.mu.Lock()
	rows := make([]Row, 0, len(t.rows))
	for _, r := range t.rows {
		rows = append(rows, r)
	}
	t.mu.Unlock()
	slices.SortFunc(rows, func(a, b Row) int { return b.Seen.Compare(a.Seen) })
	return rows
}
