package texts

import "testing"

func TestQuarterNumeral(t *testing.T) {
	tests := []struct {
		lang string
		q    int
		want string
	}{
		{VI, 1, "I"}, {VI, 2, "II"}, {VI, 3, "III"}, {VI, 4, "IV"},
		{EN, 2, "2"}, {VI, 0, "0"}, {VI, 5, "5"},
	}
	for _, tt := range tests {
		if got := QuarterNumeral(tt.lang, tt.q); got != tt.want {
			t.Errorf("QuarterNumeral(%s, %d) = %q, want %q", tt.lang, tt.q, got, tt.want)
		}
	}
}
