package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Every answer is checked, not only its status: a fast wrong answer must not
// count as throughput. The reasons are the failure's name in the report.

// checkSearch wants 200 and a results array, non-empty when the scope was
// seeded, each result one of the scope's own memories (their text starts
// with s.about): mem0's {"results": [{"memory": ...}]} and the adapter's
// {"results": [{"content": ...}]} both have one.
func checkSearch(seeded bool, s scope) func(int, []byte) (string, error) {
	return func(status int, body []byte) (string, error) {
		if status != http.StatusOK {
			return "", fmt.Errorf("status %d, want 200", status)
		}
		var answer struct {
			Results []struct {
				Memory  string `json:"memory"`
				Content string `json:"content"`
			} `json:"results"`
		}
		if err := json.Unmarshal(body, &answer); err != nil {
			return "", errors.New("answer is not JSON")
		}
		switch {
		case answer.Results == nil:
			return "", errors.New("answer has no results array")
		case seeded && len(answer.Results) == 0:
			return "", errors.New("no results in a seeded scope")
		}
		for _, r := range answer.Results {
			if !strings.HasPrefix(r.Memory+r.Content, s.about+" ") {
				return "", errors.New("a result from another scope")
			}
		}
		return "", nil
	}
}

// checkCreate wants 202 and a pending operation's id.
func checkCreate(status int, body []byte) (string, error) {
	if status != http.StatusAccepted {
		return "", fmt.Errorf("status %d, want 202", status)
	}
	var answer struct {
		OperationID string `json:"operation_id"`
		Status      string `json:"status"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", errors.New("answer is not JSON")
	}
	if answer.OperationID == "" || answer.Status != "pending" {
		return "", errors.New("answer is not a pending operation")
	}
	return answer.OperationID, nil
}

// jsonPost is a POST of a JSON body with one header set.
func jsonPost(url string, body []byte, header, value string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, value)
	return req
}
