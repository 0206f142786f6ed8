package graph

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestErrorPresenter(t *testing.T) {
	coded := &gqlerror.Error{Message: "first must be between 0 and 100", Extensions: map[string]any{"code": CodeBadUserInput}}
	cases := []struct {
		name     string
		err      error
		wantMsg  string
		wantCode string
		logged   bool
	}{
		{"our coded error passes", coded, coded.Message, CodeBadUserInput, false},
		{"wrapped by gqlgen, still ours", gqlerror.WrapPath(nil, coded), coded.Message, CodeBadUserInput, false},
		{"gqlgen's own message during execution is ours", &gqlerror.Error{Message: "the requested element is null which the schema does not allow", Path: ast.Path{ast.PathName("customerQuotas")}},
			"the requested element is null which the schema does not allow", CodeInternal, false},
		{"gqlgen's own message before execution is the client's", gqlerror.Errorf("provided APQ hash does not match query"),
			"provided APQ hash does not match query", CodeBadRequest, false},
		{"a plain error is hidden and logged", errors.New("panic: runtime error: index out of range [3] with length 3"),
			"internal server error", CodeInternal, true},
		{"a plain error wrapped by gqlgen is hidden too", gqlerror.WrapPath(nil, errors.New("dial tcp 10.0.0.1:443: secret-host")),
			"internal server error", CodeInternal, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			present := ErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
			got := present(context.Background(), tc.err)
			if got.Message != tc.wantMsg || got.Extensions["code"] != tc.wantCode {
				t.Fatalf("got %q %v, want %q %s", got.Message, got.Extensions, tc.wantMsg, tc.wantCode)
			}
			if logged := strings.Contains(logs.String(), "unexpected error"); logged != tc.logged {
				t.Fatalf("logged %v, want %v: %s", logged, tc.logged, logs.String())
			}
		})
	}
}
