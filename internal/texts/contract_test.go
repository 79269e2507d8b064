package texts

import (
	"strings"
	"testing"
)

// TestContractLabels: the buttons the product contract names word for word
// carry exactly those words, since members are told to press them by name.
func TestContractLabels(t *testing.T) {
	for _, c := range []struct {
		key    Key
		vi, en string
	}{
		{RSVPComing, "✅ Tham dự", "✅ Attending"},
		{RSVPExcused, "❌ Xin vắng", "❌ Excused"},
		{RSVPUnsure, "❔ Chưa chắc", "❔ Not sure"},
		{ReasonWork, "🧳 Công tác, đi xa", ""},
		{ReasonIllness, "🤒 Ốm đau", ""},
		{ReasonFamily, "🏠 Việc gia đình", ""},
		{ReasonOther, "✏️ Lý do khác", ""},
		{SelfNotListed, "Tôi không có trong danh sách này", "I am not on this roster"},
		{CardLeave, "Ra khỏi danh sách", ""},
	} {
		if got := T(VI, c.key); got != c.vi {
			t.Errorf("%s in vi = %q, want %q", c.key, got, c.vi)
		}
		if got := T(EN, c.key); c.en != "" && got != c.en {
			t.Errorf("%s in en = %q, want %q", c.key, got, c.en)
		}
	}
}

// TestPromoteSaysRights: /promote and /demote give or take the committee's
// rights in the bot; the committee itself is elected, so their answers never
// say that someone joins or leaves it.
func TestPromoteSaysRights(t *testing.T) {
	for _, c := range []struct {
		lang, must string
		never      []string
	}{
		{VI, "quyền", []string{"vào chi ủy", "khỏi chi ủy", "ghi nhận vào"}},
		{EN, "rights", []string{"on the committee", "from the committee", "role is recorded"}},
	} {
		for _, key := range []Key{PromoteDone, DemoteDone, DemoteSecretary, PromoteNotLinked} {
			s := T(c.lang, key, "Nguyễn Văn An")
			if !strings.Contains(s, c.must) {
				t.Errorf("%s in %s = %q, want %q in it", key, c.lang, s, c.must)
			}
			for _, w := range c.never {
				if strings.Contains(s, w) {
					t.Errorf("%s in %s = %q says %q", key, c.lang, s, w)
				}
			}
		}
	}
}
