package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cellbot/cellbot/storage"
)

// TestJoinRequestStamps: expiring, confirming or declining names the request
// by when it was made; a request made again since is left alone.
func TestJoinRequestStamps(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1201)
	if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 500, Name: "Lê Văn Tư", At: 1}); err != nil {
		t.Fatal(err)
	}
	// Made again, under another name.
	if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 500, Name: "Lê Văn Từ", At: 2}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ExpireJoin(ctx, c.ID, 500, 1); err != nil || ok {
		t.Errorf("expiring the old request: %v, %v; want nothing done", ok, err)
	}
	if _, err := s.ConfirmJoinAt(ctx, c.ID, 500, 1); !errors.Is(err, storage.ErrNotPending) {
		t.Errorf("confirming the old request: %v, want ErrNotPending", err)
	}
	if _, err := s.RejectJoinAt(ctx, c.ID, 500, 1); !errors.Is(err, storage.ErrNotPending) {
		t.Errorf("declining the old request: %v, want ErrNotPending", err)
	}
	reqs, err := s.JoinRequests(ctx, c.ID)
	if err != nil || len(reqs) != 1 || reqs[0].Name != "Lê Văn Từ" {
		t.Fatalf("pending = %+v, %v", reqs, err)
	}
	m, err := s.ConfirmJoinAt(ctx, c.ID, 500, 2)
	if err != nil || m.Name != "Lê Văn Từ" || m.UserID != 500 {
		t.Errorf("confirming the current request = %+v, %v", m, err)
	}
}

// TestUnbindAndRebind: a group the bot left keeps nothing bound; its cell keeps
// its data and is bound again by the same group.
func TestUnbindAndRebind(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1202)
	if _, err := s.UnbindChat(ctx, -1202); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CellByChat(ctx, -1202); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after unbinding: %v", err)
	}
	if _, err := s.RebindChat(ctx, -1999); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("rebinding a group that had no cell: %v", err)
	}
	got, err := s.RebindChat(ctx, -1202)
	if err != nil || got.ID != c.ID || got.ChatID != -1202 {
		t.Fatalf("rebind = %+v, %v", got, err)
	}
	if again, err := s.CellByChat(ctx, -1202); err != nil || again.ID != c.ID {
		t.Errorf("cell of the group = %+v, %v", again, err)
	}
	if ms, _ := s.Members(ctx, c.ID); len(ms) != 1 {
		t.Errorf("members after rebinding: %d", len(ms))
	}
}
