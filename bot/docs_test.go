package bot

import (
	"os"
	"strings"
	"testing"

	"github.com/cellbot/cellbot/internal/texts"
)

// TestDocsListEveryCommand: the command references in docs/ give every command
// of the menus with the menu's description, word for word; so a new command or a changed description fails here until
// the docs follow.
func TestDocsListEveryCommand(t *testing.T) {
	b := New(Params{})
	for file, lang := range map[string]string{"../docs/lenh.md": texts.VI, "../docs/commands.md": texts.EN} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(data)
		for name, c := range b.routes.commands {
			if c.desc == "" {
				continue
			}
			if row := "| `/" + name + "` |"; !strings.Contains(doc, row) {
				t.Errorf("%s: no row for /%s", file, name)
			}
			if desc := "| " + texts.T(lang, c.desc) + " |"; !strings.Contains(doc, desc) {
				t.Errorf("%s: /%s is not described as in its menu: %q", file, name, desc)
			}
		}
	}
}
