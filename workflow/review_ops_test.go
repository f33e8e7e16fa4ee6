package workflow_test

import (
	"context"
	"testing"
	"time"

	"hansewiki/workflow"
)

// The real deadline job and a real absence together: at half time the
// absent reviewer is not reminded; their deputy, a reviewer of the change
// anyway, gets one reminder (not two); the other reviewers theirs.
func TestDeadlineReminderSkipsTheAbsentReviewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.wf.AddAbsence(ctx, e.meta("pruefer1"), workflow.AbsenceInput{From: day(0), To: day(10), Deputy: "pruefer2"}); err != nil {
		t.Fatal(err)
	}
	e.propose("autorin", "Wartet auf Prüfung", true) // due in 5 days
	reports, err := e.wf.RunJobs(ctx, time.Now().Add(3*24*time.Hour), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Name, r.Err)
		}
	}
	if got := e.kinds("pruefer1"); count(got, "change.reminder") != 0 {
		t.Errorf("the absent reviewer was reminded: %v", got)
	}
	if got := e.kinds("pruefer2"); count(got, "change.reminder")+count(got, "change.reminder (for pruefer1)") != 1 {
		t.Errorf("the deputy, a reviewer of the change, got %v; want one reminder", got)
	}
	if got := e.kinds("pruefer3"); count(got, "change.reminder") != 1 {
		t.Errorf("another reviewer got %v; want one reminder", got)
	}
	if got := e.kinds("autorin"); count(got, "change.reminder") != 0 {
		t.Errorf("the author was reminded of their own change: %v", got)
	}
}
