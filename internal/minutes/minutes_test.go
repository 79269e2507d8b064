package minutes

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

var hcm = time.FixedZone("ICT", 7*3600)

// sample is a small topical meeting: 6 members (one attached, one exempt who
// came, one away), a guest whose title needs escaping, two votes.
func sample(t *testing.T) Draft {
	t.Helper()
	start := time.Date(2026, 4, 3, 14, 0, 0, 0, hcm)
	roster := []cell.Member{
		{ID: 1, Name: "Nguyễn Thị Lan", Standing: cell.Official, Participation: cell.Regular, Role: cell.RoleSecretary},
		{ID: 2, Name: "Trần Văn <Bình> & Co", Standing: cell.Official, Participation: cell.Regular},
		{ID: 3, Name: "Lê Văn Cường", Standing: cell.Probationary, Participation: cell.Regular},
		{ID: 4, Name: "Phạm Thị Dung", Standing: cell.Official, Participation: cell.Regular},
		{ID: 5, Name: "Hoàng Văn Em", Standing: cell.Official, Participation: cell.Exempt},
		{ID: 6, Name: "Vũ Thị Phương", Standing: cell.Official, Participation: cell.Away, Until: "2027-01-01"},
		{ID: 7, Name: "Đỗ Văn Giang", Standing: cell.Official, Participation: cell.Attached},
		{ID: 8, Name: "Bùi Văn Hải", Standing: cell.Official, Participation: cell.Regular},
	}
	at := start.Add(-time.Hour)
	answers := []cell.Answer{{MemberID: 4, Kind: cell.Excused, Reason: cell.ReasonIllness, At: at}}
	pres := []cell.Presence{
		{MemberID: 1, Mark: cell.PresentByCode, At: at}, {MemberID: 2, Mark: cell.PresentByCode, At: at},
		{MemberID: 3, Mark: cell.PresentByRollCall, At: at}, {MemberID: 5, Mark: cell.PresentByRollCall, At: at},
		{MemberID: 7, Mark: cell.PresentByCode, At: at},
	}
	guests := []cell.Guest{{Name: "Trần Văn Bình", Title: "Bí thư Đảng ủy phường \"A\""}}
	sum := cell.Summarize(start, roster, answers, pres, guests, 0)
	m := cell.Meeting{Kind: cell.KindTopical, Title: "Học tập tư tưởng Hồ Chí Minh", Start: start, Place: "Nhà văn hóa khu phố 3",
		Agenda: []string{"Báo cáo kết quả quý I", "Nhiệm vụ quý II"},
		Ballots: []cell.Ballot{
			{Matter: "Nghị quyết quý II", For: 3, Against: 0, Abstain: 0, Voters: 3, Base: 4, Threshold: 3},
			{Matter: "Kết nạp", For: 2, Against: 1, Voters: 3, Base: 4, Threshold: 3},
		}}
	return Draft{Lang: texts.VI, Parent: "Đảng bộ phường Mỹ Phước", Cell: "Chi bộ Khu phố 3", Meeting: m, Loc: hcm,
		Chair: "Nguyễn Thị Lan", Ended: start.Add(150 * time.Minute), Roster: Count(roster, start), Summary: sum}
}

func TestRenderSaysEverything(t *testing.T) {
	d := sample(t)
	data, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]bool{}
	for _, f := range zr.File {
		parts[f.Name] = true
	}
	for _, want := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml", "word/_rels/document.xml.rels", "word/settings.xml"} {
		if !parts[want] {
			t.Errorf("the package lacks %s (has %v)", want, parts)
		}
	}
	paras, err := Paragraphs(data)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(paras, "\n")
	for _, want := range []string{
		"ĐẢNG BỘ PHƯỜNG MỸ PHƯỚC", "CHI BỘ KHU PHỐ 3", "Số …-BB/CB", "ĐẢNG CỘNG SẢN VIỆT NAM",
		PlaceDots + ", ngày 03 tháng 4 năm 2026",
		"BIÊN BẢN SINH HOẠT CHI BỘ CHUYÊN ĐỀ THÁNG 4/2026", "Chuyên đề: “Học tập tư tưởng Hồ Chí Minh”",
		"Thời gian bắt đầu: 14 giờ 00 phút, ngày 03 tháng 4 năm 2026.",
		"Địa điểm: Nhà văn hóa khu phố 3.", "Chủ trì: đồng chí Nguyễn Thị Lan.", "Thư ký: " + Dots + ".",
		// 7 on the roster without the attached one: 6 official, 1 probationary, 1 exempt, 1 away.
		"Tổng số đảng viên của chi bộ: 7 đồng chí (chính thức: 6, dự bị: 1); trong đó miễn sinh hoạt: 1, tạm miễn sinh hoạt: 1.",
		"sinh hoạt tạm thời (của chi bộ khác, không tính vào đảng số): 1 đồng chí: Đỗ Văn Giang.",
		// Expected: 1, 2, 3, 4, 7, 8 = 6; present 1, 2, 3, 7 = 4 (official 3, probationary 1).
		"Số đảng viên phải có mặt: 6 đồng chí.", "Có mặt: 4 đồng chí (chính thức: 2, dự bị: 1, sinh hoạt tạm thời: 1).",
		"Đảng viên chính thức có mặt: Nguyễn Thị Lan, Trần Văn <Bình> & Co.",
		"Đảng viên sinh hoạt tạm thời có mặt: Đỗ Văn Giang.",
		"Vắng có lý do: 1 đồng chí: Phạm Thị Dung (ốm đau).", "Vắng không có lý do: 1 đồng chí: Bùi Văn Hải.",
		"miễn, tạm miễn sinh hoạt có dự: 1 đồng chí: Hoàng Văn Em.",
		"Khách mời: 1: Trần Văn Bình — Bí thư Đảng ủy phường \"A\".",
		"Tỷ lệ đảng viên dự sinh hoạt: 66,7% (4/6 đồng chí phải có mặt); chỉ tiêu 85%: chưa đạt.",
		"1. Báo cáo kết quả quý I", "2. Nhiệm vụ quý II",
		"Nghị quyết quý II: tán thành 3, không tán thành 0, không biểu quyết 0", ": thông qua.",
		"Kết nạp: tán thành 2, không tán thành 1", ": không thông qua.",
		"Buổi sinh hoạt kết thúc lúc 16 giờ 30 phút cùng ngày.",
		"CHỦ TRÌ", "THƯ KÝ", "(Ký, ghi rõ họ tên)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the draft lacks %q:\n%s", want, all)
		}
	}
	v := d.Summary.Vote
	if want := "= " + itoa(v.Base) + " đồng chí; nghị quyết được thông qua khi có từ " + itoa(v.Threshold); !strings.Contains(all, want) {
		t.Errorf("the draft lacks the vote base %q", want)
	}
}

func TestRenderDotsWhatIsUnknown(t *testing.T) {
	d := sample(t)
	d.Parent, d.Chair, d.Meeting.Place, d.Ended = "", "", "", time.Time{}
	d.Meeting.Kind, d.Meeting.Title, d.Meeting.Agenda, d.Meeting.Ballots = cell.KindRegular, "", nil, nil
	data, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	paras, err := Paragraphs(data)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(paras, "\n")
	for _, want := range []string{
		"BIÊN BẢN SINH HOẠT CHI BỘ ĐỊNH KỲ THÁNG 4/2026", "Địa điểm: " + Dots, "Chủ trì: " + Dots, "Thư ký: " + Dots,
		"kết thúc lúc " + Dots, "Nội dung:",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the draft lacks %q:\n%s", want, all)
		}
	}
	if paras[0] != Dots {
		t.Errorf("the header's first line is %q, want dots for the unknown parent", paras[0])
	}
	if strings.Contains(all, "Chuyên đề") || strings.Contains(all, "thông qua.") {
		t.Errorf("the draft shows a topic or a vote it does not have:\n%s", all)
	}
}

func TestFileName(t *testing.T) {
	if got := FileName(time.Date(2026, 4, 3, 14, 0, 0, 0, hcm)); got != "Bien-ban-03-04-2026.docx" {
		t.Errorf("FileName = %q", got)
	}
}

// TestOpensInPythonDocx: python-docx (Debian's python3-docx) reads the draft
// and finds its title. Skipped where python-docx is not installed: CI stays
// light, and TestRenderSaysEverything walks the XML in any case.
func TestOpensInPythonDocx(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import docx").Run(); err != nil {
		t.Skipf("python-docx is not installed (apt-get install python3-docx): %v", err)
	}
	data, err := Render(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "draft.docx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `import sys, docx
d = docx.Document(sys.argv[1])
s = d.sections[0]
print(round(s.page_width.mm), round(s.page_height.mm))
print(d.styles.element.xpath('//w:rFonts/@w:ascii')[0])
for p in d.paragraphs: print(p.text)
for t in d.tables:
    for c in t._cells: print(c.text)
`
	out, err := exec.Command(python, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python-docx could not read the draft: %v\n%s", err, out)
	}
	for _, want := range []string{"210 297", "Times New Roman", "BIÊN BẢN SINH HOẠT CHI BỘ CHUYÊN ĐỀ THÁNG 4/2026", "ĐẢNG CỘNG SẢN VIỆT NAM", "Trần Văn <Bình> & Co"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("python-docx did not read %q:\n%s", want, out)
		}
	}
}

// TestOpensInLibreOffice: LibreOffice converts the draft to a PDF of A4 pages
// that holds its title. Skipped where soffice is not installed (apt-get
// install libreoffice-writer-nogui): it is too heavy for every machine.
func TestOpensInLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice is not installed (apt-get install libreoffice-writer-nogui)")
	}
	data, err := Render(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName(sample(t).Meeting.Start))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// A profile of its own, so that a LibreOffice already running elsewhere
	// does not take the conversion.
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless",
		"--convert-to", "pdf", "--outdir", dir, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	pdf := strings.TrimSuffix(path, ".docx") + ".pdf"
	info, err := os.Stat(pdf)
	if err != nil || info.Size() == 0 {
		t.Fatalf("no PDF from LibreOffice: %v", err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		return
	}
	out, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(out), "BIÊN BẢN SINH HOẠT CHI BỘ CHUYÊN ĐỀ THÁNG 4/2026") {
		t.Errorf("the PDF lacks the title:\n%s", out)
	}
}
