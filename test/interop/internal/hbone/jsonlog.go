package hbone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// JSONLog appends one JSON object per line to a file. Each line is written with a single
// write(2) on an O_APPEND file, so a reader never sees half a line and nothing sits in a buffer:
// a test may read the file as soon as the event it waits for has happened.
type JSONLog struct {
	mu   sync.Mutex
	file *os.File
}

// OpenJSONLog opens `path` for appending; an empty path gives a log that drops everything.
func OpenJSONLog(path string) (*JSONLog, error) {
	if path == "" {
		return &JSONLog{}, nil
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening --log: %w", err)
	}
	return &JSONLog{file: file}, nil
}

// Write appends `record` as one line. Errors go to stderr: a log problem must not end a tunnel.
func (l *JSONLog) Write(record interface{}) {
	if l.file == nil {
		return
	}
	var line bytes.Buffer
	encoder := json.NewEncoder(&line) // Encode appends the newline
	encoder.SetEscapeHTML(false)      // keep "->" readable
	if err := encoder.Encode(record); err != nil {
		fmt.Fprintf(os.Stderr, "json log: %v\n", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.file.Write(line.Bytes()); err != nil {
		fmt.Fprintf(os.Stderr, "json log: %v\n", err)
	}
}
