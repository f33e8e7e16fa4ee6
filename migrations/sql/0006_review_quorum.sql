-- Review workflow: nothing is in review without the quorum recorded at its
-- submission; whom a submission notified; the reviewer's reason in
-- notifications.

-- Changes that reached review or conflict without a submission (a PUT used
-- to move them there) get the city's current policy, as if submitted now:
-- they need the full quorum from here on.
UPDATE change_requests c
SET required_approvals = ci.required_approvals,
    submitted_at = coalesce(c.submitted_at, now())
FROM articles a
JOIN cities ci ON ci.slug = a.city
WHERE a.id = c.article_id AND c.required_approvals IS NULL
  AND c.state IN ('in_review', 'conflict', 'changes_requested');

-- Only drafts and changes withdrawn as drafts are without a quorum. NOT
-- VALID: changes already closed without one are history and stay as they
-- were; every row written from now on is checked.
ALTER TABLE change_requests ADD CONSTRAINT change_requests_quorum_recorded
    CHECK (state IN ('draft', 'withdrawn') OR required_approvals IS NOT NULL) NOT VALID;

-- Whom the last submission reached: the city's reviewers, the network
-- admins as reviewers of last resort, or nobody.
ALTER TABLE change_requests ADD COLUMN notified text
    CHECK (notified IN ('reviewers', 'network_admins', 'nobody'));

-- The reviewer's comment that came with a decision.
ALTER TABLE notifications ADD COLUMN comment text NOT NULL DEFAULT '';
