package bot

import (
	"slices"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/texts"
)

var audiences = []struct {
	name string
	a    audience
}{
	{"guest", audience{who: anyone}},
	{"member", audience{who: member}},
	{"committee", audience{who: committee}},
	{"secretary", audience{who: secretary}},
	{"group member", audience{group: true, who: member}},
	{"group committee", audience{group: true, who: committee}},
	{"group secretary", audience{group: true, who: secretary}},
}

// TestEveryMenuCommandHasHelp: each command of each menu is in the /help of the
// same person, with the menu's description word for word.
func TestEveryMenuCommandHasHelp(t *testing.T) {
	b := New(Params{})
	for _, lang := range []string{texts.VI, texts.EN} {
		for _, tt := range audiences {
			help := b.helpText(lang, tt.a)
			if tt.a.group {
				// /help in a group is the same for everyone there.
				help = b.helpText(lang, audience{group: true, who: committee})
			}
			menu := b.menu(lang, tt.a)
			if len(menu) == 0 {
				t.Errorf("%s %s: empty menu", lang, tt.name)
			}
			for _, c := range menu {
				line := "/" + c.Command + " — " + c.Description
				if !strings.Contains(help, line) {
					t.Errorf("%s %s: /help lacks the menu's line %q", lang, tt.name, line)
				}
				if n := len([]rune(c.Description)); n > 256 || n == 0 {
					t.Errorf("%s: description of /%s has %d characters", lang, c.Command, n)
				}
			}
		}
	}
}

// TestMenusHoldOnlyWhatTheirUserMayUse: a scope's menu holds only commands its
// user may use where the menu shows.
func TestMenusHoldOnlyWhatTheirUserMayUse(t *testing.T) {
	b := New(Params{})
	for _, tt := range audiences {
		names := b.menuNames(tt.a)
		for _, n := range names {
			c := b.routes.commands[n]
			if c.who > tt.a.who {
				t.Errorf("%s menu has /%s, which needs more rights", tt.name, n)
			}
			if tt.a.group && c.where == privateOnly || !tt.a.group && c.where == groupOnly {
				t.Errorf("%s menu has /%s, which does not work there", tt.name, n)
			}
		}
	}
	want := map[string]struct{ has, lacks []string }{
		"member":          {has: []string{"help", "lang", "cancel"}, lacks: []string{"import", "promote", "members", "broadcast", "setup", "start"}},
		"committee":       {has: []string{"help", "members", "import", "away", "broadcast", "agenda"}, lacks: []string{"promote", "demote", "join"}},
		"secretary":       {has: []string{"members", "promote", "demote"}, lacks: []string{"setup", "join"}},
		"group member":    {has: []string{"help", "join", "setup"}, lacks: []string{"agenda", "members", "import", "broadcast"}},
		"group committee": {has: []string{"join", "agenda"}, lacks: []string{"members", "promote"}},
	}
	for _, tt := range audiences {
		w, ok := want[tt.name]
		if !ok {
			continue
		}
		names := b.menuNames(tt.a)
		for _, n := range w.has {
			if !slices.Contains(names, n) {
				t.Errorf("%s menu lacks /%s: %v", tt.name, n, names)
			}
		}
		for _, n := range w.lacks {
			if slices.Contains(names, n) {
				t.Errorf("%s menu has /%s: %v", tt.name, n, names)
			}
		}
	}
}

// TestRoutesHaveDescriptions: every command but /start is in some menu.
func TestRoutesHaveDescriptions(t *testing.T) {
	b := New(Params{})
	for name, c := range b.routes.commands {
		if name != "start" && c.desc == "" {
			t.Errorf("/%s has no description for the menus and /help", name)
		}
	}
}

// TestHelpExplainsParticipation: the committee's /help shows an example per
// command, not [until dd/mm/yyyy] notation, and says what /exempt, /away,
// /regular and /attached mean.
func TestHelpExplainsParticipation(t *testing.T) {
	b := New(Params{})
	help := b.helpText(texts.VI, audience{who: committee})
	for _, want := range []string{
		"/away — Tạm miễn sinh hoạt đến một ngày",
		"Ví dụ: /away Nguyễn Văn An đến 31/12/2026 đi làm xa",
		"/exempt — Miễn sinh hoạt (cao tuổi, ốm yếu)",
		"/join — ",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("committee help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "[until") || strings.Contains(help, "dd/mm/yyyy") {
		t.Errorf("committee help uses notation:\n%s", help)
	}
}
