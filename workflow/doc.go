// Package workflow owns the review workflow: change requests with their
// proposed revisions, the state machine, reviews under the four-eyes rule
// and the city's approval policy, race-free publication with conflict
// detection, the discussion thread, notifications and their mail queue, and
// the hash-chained audit log.
package workflow
