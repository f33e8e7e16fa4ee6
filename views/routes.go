package views

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// access is what a route requires; the route table declares it and
// authorize decides, so no handler checks permissions on its own.
type access struct {
	kind   accessKind
	action auth.Action // for needCan
}

type accessKind int

const (
	open     accessKind = iota // everyone; objects are still filtered by visibility
	signedIn                   // any account
	needCan                    // the action, in the route's {city} (or network-wide)
)

var (
	public   = access{kind: open}
	member   = access{kind: signedIn}
	can      = func(a auth.Action) access { return access{kind: needCan, action: a} }
	getPages = true
)

// route is one entry of the route table.
type route struct {
	name   string
	method string
	path   string
	access access
	page   bool // an HTML page that may come from the page cache
	h      http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"healthz", "GET", "/healthz", public, false, s.healthz},
		{"readyz", "GET", "/readyz", public, false, s.readyz},
		{"metrics", "GET", "/metrics", public, false, s.metrics.ServeHTTP},

		{"home", "GET", "/", public, getPages, s.homePage},
		{"feed", "GET", "/feed.atom", public, getPages, s.feed},
		{"city.feed", "GET", "/c/{city}/feed.atom", public, getPages, s.feed},
		{"topic.feed", "GET", "/topics/{topic}/feed.atom", public, getPages, s.feed},
		{"cities", "GET", "/c", public, getPages, s.citiesPage},
		{"city", "GET", "/c/{city}", public, getPages, s.cityPage},
		// Before the article route, which would take "new" for a slug.
		{"article.new", "GET", "/c/{city}/new", can(auth.CreateArticle), false, s.newArticlePage},
		{"article.new.post", "POST", "/c/{city}/new", can(auth.CreateArticle), false, s.editorSubmit},
		{"article.new.autosave", "GET", "/c/{city}/new/autosave", can(auth.CreateArticle), false, s.autosaveGet},
		{"article.new.autosave.post", "POST", "/c/{city}/new/autosave", can(auth.CreateArticle), false, s.autosavePost},
		{"city.freshness", "GET", "/c/{city}/freshness", can(auth.ReadCityArticles), false, s.freshnessPage},
		{"article.markdown", "GET", "/c/{city}/{slug:[a-z0-9][a-z0-9-]*}.md", public, getPages, s.articleMarkdown},
		{"article", "GET", "/c/{city}/{slug}", public, getPages, s.articlePage},
		{"history", "GET", "/c/{city}/{slug}/history", public, getPages, s.historyPage},
		{"revision", "GET", "/c/{city}/{slug}/revisions/{id:[0-9]+}", public, getPages, s.revisionPage},
		{"diff", "GET", "/c/{city}/{slug}/diff", public, getPages, s.diffPage},
		{"topics", "GET", "/topics", public, getPages, s.topicsPage},
		{"search", "GET", "/search", public, getPages, s.searchPage},
		{"topic", "GET", "/topics/{topic}", public, getPages, s.topicPage},
		{"topic.csv", "GET", "/topics/{topic}/experiences.csv", public, getPages, s.topicCSV},
		{"opendata.catalog", "GET", "/opendata/catalog.jsonld", public, getPages, s.openCatalog},
		{"opendata.csv", "GET", "/opendata/experiences.csv", public, getPages, s.openExperiencesCSV},
		{"opendata.json", "GET", "/opendata/experiences.json", public, getPages, s.openExperiencesJSON},

		{"article.edit", "GET", "/c/{city}/{slug}/edit", can(auth.ProposeChange), false, s.editArticlePage},
		{"article.edit.post", "POST", "/c/{city}/{slug}/edit", can(auth.ProposeChange), false, s.editorSubmit},
		{"article.edit.autosave", "GET", "/c/{city}/{slug}/edit/autosave", can(auth.ProposeChange), false, s.autosaveGet},
		{"article.edit.autosave.post", "POST", "/c/{city}/{slug}/edit/autosave", can(auth.ProposeChange), false, s.autosavePost},
		{"article.watch", "POST", "/c/{city}/{slug}/watch", member, false, s.watchToggle},
		{"article.comment", "POST", "/c/{city}/{slug}/comments", member, false, s.commentPost},
		{"article.comment.hide", "POST", "/c/{city}/{slug}/comments/{id:[0-9]+}/hide", can(auth.ManageCity), false, s.commentHide},
		{"comment.edit", "POST", "/comments/{id:[0-9]+}/edit", member, false, s.commentEdit},
		{"comment.delete", "POST", "/comments/{id:[0-9]+}/delete", member, false, s.commentDelete},
		{"article.confirm", "POST", "/c/{city}/{slug}/confirm", member, false, s.articleConfirm},
		{"article.stewards", "POST", "/c/{city}/{slug}/stewards", can(auth.ManageCity), false, s.articleStewards},
		{"article.archive", "POST", "/c/{city}/{slug}/archive", can(auth.ArchiveArticle), false, s.archiveToggle},
		{"preview", "POST", "/preview", member, false, s.previewFragment},
		{"changes", "GET", "/changes", member, false, s.myChanges},
		{"change", "GET", "/changes/{id:[0-9]+}", member, false, s.changePage},
		{"change.edit", "GET", "/changes/{id:[0-9]+}/edit", member, false, s.changeEditPage},
		{"change.edit.post", "POST", "/changes/{id:[0-9]+}/edit", member, false, s.changeEditSubmit},
		{"change.edit.autosave", "GET", "/changes/{id:[0-9]+}/edit/autosave", member, false, s.autosaveGet},
		{"change.edit.autosave.post", "POST", "/changes/{id:[0-9]+}/edit/autosave", member, false, s.autosavePost},
		{"change.action", "POST", "/changes/{id:[0-9]+}/action", member, false, s.changeAction},
		{"change.comment", "POST", "/changes/{id:[0-9]+}/comments", member, false, s.changeComment},
		{"review", "GET", "/review", member, false, s.reviewQueue},
		{"notifications", "GET", "/notifications", member, false, s.notificationsPage},
		{"notifications.read", "POST", "/notifications/read", member, false, s.notificationsRead},
		// Questions across cities (issue 13): members only, never cached.
		{"questions", "GET", "/questions", member, false, s.questionsPage},
		{"questions.post", "POST", "/questions", member, false, s.questionAsk},
		{"question", "GET", "/questions/{id:[0-9]+}", member, false, s.questionPage},
		{"question.answer", "POST", "/questions/{id:[0-9]+}/answers", member, false, s.questionAnswer},
		{"question.helpful", "POST", "/questions/{id:[0-9]+}/answers/{aid:[0-9]+}/helpful", member, false, s.questionHelpful},
		{"question.edit", "POST", "/questions/{id:[0-9]+}/edit", member, false, s.questionEdit},
		{"question.close", "POST", "/questions/{id:[0-9]+}/close", member, false, s.questionClose},
		{"question.hide", "POST", "/questions/{id:[0-9]+}/hide", member, false, s.questionHide},
		{"question.answer.edit", "POST", "/questions/{id:[0-9]+}/answers/{aid:[0-9]+}/edit", member, false, s.answerEdit},
		{"question.answer.hide", "POST", "/questions/{id:[0-9]+}/answers/{aid:[0-9]+}/hide", member, false, s.answerHide},
		{"topic.watch", "POST", "/topics/{topic}/watch", member, false, s.topicWatch},
		{"city.watch", "POST", "/c/{city}/watch", member, false, s.cityWatch},
		{"audit", "GET", "/admin/audit", can(auth.ReadAudit), false, s.auditPage},
		{"audit.csv", "GET", "/admin/audit.csv", can(auth.ReadAudit), false, s.auditCSV},
		// The review dashboard: city admins see their cities, network admins all.
		{"admin.dashboard", "GET", "/admin/review", can(auth.ReadAudit), false, s.reviewDashboard},

		{"login", "GET", "/login", public, false, s.loginPage},
		{"login.post", "POST", "/login", public, false, s.loginSubmit},
		{"logout", "POST", "/logout", member, false, s.logout},
		{"account", "GET", "/account", member, false, s.accountPage},
		{"account.password", "POST", "/account/password", member, false, s.accountPassword},
		{"account.digest", "POST", "/account/digest", member, false, s.accountDigest},
		{"account.tokens", "POST", "/account/tokens", member, false, s.accountTokenCreate},
		{"account.token.revoke", "POST", "/account/tokens/{id:[0-9]+}/revoke", member, false, s.accountTokenRevoke},
		// Absence and deputies (issue 14): the workflow checks who may.
		{"account.absences", "POST", "/account/absences", member, false, s.accountAbsenceAdd},
		{"account.absence.delete", "POST", "/account/absences/{id:[0-9]+}/delete", member, false, s.accountAbsenceDelete},
		{"api.absences", "GET", "/api/v1/me/absences", member, false, s.apiAbsences},
		{"api.absences.create", "POST", "/api/v1/me/absences", member, false, s.apiAbsenceCreate},
		{"api.absence.delete", "DELETE", "/api/v1/me/absences/{id:[0-9]+}", member, false, s.apiAbsenceDelete},

		{"admin", "GET", "/admin", can(auth.ManageNetwork), false, s.adminPage},
		{"admin.cities.page", "GET", "/admin/cities", can(auth.ManageNetwork), false, s.adminCitiesPage},
		{"admin.topics.page", "GET", "/admin/topics", can(auth.ManageNetwork), false, s.adminTopicsPage},
		{"admin.roles.page", "GET", "/admin/roles", can(auth.ManageNetwork), false, s.adminRolesPage},
		{"admin.cities", "POST", "/admin/cities", can(auth.ManageNetwork), false, s.adminCityAdd},
		{"admin.topics", "POST", "/admin/topics", can(auth.ManageNetwork), false, s.adminTopicSave},
		{"admin.funding.page", "GET", "/admin/funding", can(auth.ManageNetwork), false, s.adminFundingPage},
		{"admin.funding", "POST", "/admin/funding", can(auth.ManageNetwork), false, s.adminFundingAdd},
		{"admin.funding.update", "POST", "/admin/funding/{id:[0-9]+}", can(auth.ManageNetwork), false, s.adminFundingUpdate},
		{"admin.users", "POST", "/admin/users", can(auth.ManageNetwork), false, s.adminUserAdd},
		{"admin.user.disable", "POST", "/admin/users/{user}/disable", can(auth.ManageNetwork), false, s.adminUserDisable},
		{"admin.roles", "POST", "/admin/roles", can(auth.ManageNetwork), false, s.adminRoleChange},
		{"admin.templates", "GET", "/admin/templates", can(auth.ManageNetwork), false, s.templatesPage},
		{"admin.templates.post", "POST", "/admin/templates", can(auth.ManageNetwork), false, s.templateSave},
		{"admin.city", "GET", "/admin/c/{city}", can(auth.ManageCity), false, s.adminCityPage},
		{"admin.city.roles", "POST", "/admin/c/{city}/roles", can(auth.ManageCity), false, s.adminCityRoleChange},
		{"admin.city.policy", "POST", "/admin/c/{city}/policy", can(auth.ManageCity), false, s.adminCityPolicy},
		{"admin.city.portal", "POST", "/admin/c/{city}/portal", can(auth.ManageCity), false, s.adminCityPortal},
		{"admin.city.freshness", "POST", "/admin/c/{city}/freshness", can(auth.ManageCity), false, s.adminCityFreshness},

		// Legal pages (issue 12): public, edited by network admins; the
		// accessibility statement carries a feedback form, so it is never
		// served from the shared cache.
		{"legal.impressum", "GET", "/impressum", public, getPages, s.legalPage("impressum")},
		{"legal.datenschutz", "GET", "/datenschutz", public, getPages, s.legalPage("datenschutz")},
		{"legal.barrierefreiheit", "GET", "/barrierefreiheit", public, false, s.legalPage("barrierefreiheit")},
		{"legal.feedback", "POST", "/barrierefreiheit", public, false, s.feedbackSubmit},
		{"admin.legal", "GET", "/admin/legal", can(auth.ManageNetwork), false, s.adminLegalPage},
		{"admin.legal.save", "POST", "/admin/legal/{slug}", can(auth.ManageNetwork), false, s.adminLegalSave},
		{"admin.feedback", "GET", "/admin/feedback", can(auth.ManageNetwork), false, s.adminFeedbackPage},
		// Webhooks (issue 14): network and city admins; workflow decides
		// whose endpoints each may see and change.
		{"admin.webhooks", "GET", "/admin/webhooks", member, false, s.webhooksPage},
		{"admin.webhooks.post", "POST", "/admin/webhooks", member, false, s.webhookCreate},
		{"admin.webhook.delete.confirm", "GET", "/admin/webhooks/{id:[0-9]+}/delete", member, false, s.webhookDeleteConfirm},
		{"admin.webhook.delete", "POST", "/admin/webhooks/{id:[0-9]+}/delete", member, false, s.webhookDelete},

		// Password reset and invitations (issue 12): single-use links by mail.
		{"password.forgot", "GET", "/password/forgot", public, false, s.forgotPage},
		{"password.forgot.post", "POST", "/password/forgot", public, false, s.forgotSubmit},
		{"password.reset", "GET", "/password/reset", public, false, s.resetPage},
		{"password.reset.post", "POST", "/password/reset", public, false, s.resetSubmit},
		{"invitation", "GET", "/invitation", public, false, s.invitationPage},
		{"invitation.post", "POST", "/invitation", public, false, s.invitationSubmit},
		// People: network admins for every city, city admins in theirs.
		{"admin.people", "GET", "/admin/people", can(auth.ManageNetwork), false, s.peoplePage},
		{"admin.invite", "POST", "/admin/invitations", can(auth.ManageNetwork), false, s.adminInvite},
		{"admin.user.disable.confirm", "GET", "/admin/users/{user}/disable", can(auth.ManageNetwork), false, s.disableConfirm},
		{"admin.city.invite", "POST", "/admin/c/{city}/invitations", can(auth.ManageCity), false, s.adminCityInvite},

		// Single sign-on with the city's identity provider (OpenID Connect).
		{"oidc.login", "GET", "/auth/oidc/login", public, false, s.oidcLogin},
		{"oidc.callback", "GET", "/auth/oidc/callback", public, false, s.oidcCallback},

		// Confirmation pages before archiving and withdrawing.
		{"article.archive.confirm", "GET", "/c/{city}/{slug}/archive", can(auth.ArchiveArticle), false, s.archiveConfirm},
		{"change.withdraw.confirm", "GET", "/changes/{id:[0-9]+}/withdraw", member, false, s.withdrawConfirm},

		{"api.openapi", "GET", "/api/v1/openapi.json", public, false, s.apiOpenAPI},
		{"api.login", "POST", "/api/v1/auth/login", public, false, s.apiLogin},
		{"api.logout", "POST", "/api/v1/auth/logout", member, false, s.apiLogout},
		{"api.me", "GET", "/api/v1/me", member, false, s.apiMe},
		{"api.cities", "GET", "/api/v1/cities", public, false, s.apiCities},
		{"api.city.update", "PUT", "/api/v1/cities/{city}", can(auth.ManageCity), false, s.apiCityUpdate},
		{"api.topics", "GET", "/api/v1/topics", public, false, s.apiTopics},
		{"api.changes.create", "POST", "/api/v1/changes", member, false, s.apiChangeCreate},
		{"api.changes", "GET", "/api/v1/changes", member, false, s.apiChanges},
		{"api.change", "GET", "/api/v1/changes/{id:[0-9]+}", member, false, s.apiChange},
		{"api.change.update", "PUT", "/api/v1/changes/{id:[0-9]+}", member, false, s.apiChangeUpdate},
		{"api.change.action", "POST", "/api/v1/changes/{id:[0-9]+}/{action:submit|approve|request-changes|reject|withdraw}", member, false, s.apiChangeAction},
		{"api.questions", "GET", "/api/v1/questions", member, false, s.apiQuestions},
		{"api.questions.create", "POST", "/api/v1/questions", member, false, s.apiQuestionCreate},
		{"api.question", "GET", "/api/v1/questions/{id:[0-9]+}", member, false, s.apiQuestion},
		{"api.question.answer", "POST", "/api/v1/questions/{id:[0-9]+}/answers", member, false, s.apiAnswerCreate},
		{"api.question.helpful", "POST", "/api/v1/questions/{id:[0-9]+}/answers/{aid:[0-9]+}/helpful", member, false, s.apiAnswerHelpful},
		{"api.question.edit", "PATCH", "/api/v1/questions/{id:[0-9]+}", member, false, s.apiQuestionEdit},
		{"api.question.close", "POST", "/api/v1/questions/{id:[0-9]+}/close", member, false, s.apiQuestionClose},
		{"api.question.hide", "POST", "/api/v1/questions/{id:[0-9]+}/hide", member, false, s.apiQuestionHide},
		{"api.question.answer.edit", "PATCH", "/api/v1/questions/{id:[0-9]+}/answers/{aid:[0-9]+}", member, false, s.apiAnswerEdit},
		{"api.question.answer.hide", "POST", "/api/v1/questions/{id:[0-9]+}/answers/{aid:[0-9]+}/hide", member, false, s.apiAnswerHide},
		{"api.webhooks", "GET", "/api/v1/webhooks", member, false, s.apiWebhooks},
		{"api.webhooks.create", "POST", "/api/v1/webhooks", member, false, s.apiWebhookCreate},
		{"api.webhook.delete", "DELETE", "/api/v1/webhooks/{id:[0-9]+}", member, false, s.apiWebhookDelete},
		{"api.webhook.deliveries", "GET", "/api/v1/webhooks/{id:[0-9]+}/deliveries", member, false, s.apiWebhookDeliveries},
		{"api.audit", "GET", "/api/v1/audit", can(auth.ReadAudit), false, s.apiAudit},
		{"api.articles", "GET", "/api/v1/articles", public, false, s.apiArticles},
		{"api.search", "GET", "/api/v1/search", public, false, s.apiSearch},
		{"api.suggest", "GET", "/api/v1/search/suggest", public, false, s.apiSuggest},
		{"api.article", "GET", "/api/v1/articles/{city}/{slug}", public, false, s.apiArticle},
		{"api.revisions", "GET", "/api/v1/articles/{city}/{slug}/revisions", public, false, s.apiRevisions},
		{"api.revision", "GET", "/api/v1/articles/{city}/{slug}/revisions/{id:[0-9]+}", public, false, s.apiRevision},
		{"api.comments", "GET", "/api/v1/articles/{city}/{slug}/comments", member, false, s.apiComments},
		{"api.comments.create", "POST", "/api/v1/articles/{city}/{slug}/comments", member, false, s.apiCommentCreate},
		{"api.freshness", "GET", "/api/v1/articles/{city}/{slug}/freshness", member, false, s.apiFreshness},
		{"api.freshness.update", "PUT", "/api/v1/articles/{city}/{slug}/freshness", can(auth.ManageCity), false, s.apiFreshnessUpdate},
		{"api.confirm", "POST", "/api/v1/articles/{city}/{slug}/confirm", member, false, s.apiConfirm},
		{"api.comment.edit", "PATCH", "/api/v1/comments/{id:[0-9]+}", member, false, s.apiCommentEdit},
		{"api.comment.delete", "DELETE", "/api/v1/comments/{id:[0-9]+}", member, false, s.apiCommentDelete},
		{"api.comment.hide", "POST", "/api/v1/comments/{id:[0-9]+}/hide", member, false, s.apiCommentHide},
		{"api.attachments.create", "POST", "/api/v1/attachments", can(auth.ProposeChange), false, s.apiAttachmentCreate},
		// Files: who may read each is decided by workflow.Service.Attachment.
		{"file", "GET", "/files/{id:[a-z0-9]+}/{name}", public, false, s.fileServe},
	}
}

// authorize is the one place that decides whether a request may use a
// route: it asks auth for the route's declared action, and guards every
// state-changing request against CSRF. An editor form is never run without
// a valid session and token, but its text is never dropped either: it comes
// back in the editor, through the login page when the session has ended.
func (s *Server) authorize(rt route) http.HandlerFunc {
	keeps := keepsText(rt)
	return func(w http.ResponseWriter, r *http.Request) {
		csrfOK := rt.method == http.MethodGet || rt.method == http.MethodHead || s.checkCSRF(r)
		if !csrfOK && !keeps {
			s.fail(w, r, wiki.ErrForbidden, "csrf")
			return
		}
		id := auth.FromContext(r.Context())
		if rt.access.kind != open && id == nil {
			if keeps {
				s.holdForSignIn(w, r)
				return
			}
			if isAPI(r) || r.Method != http.MethodGet {
				s.fail(w, r, errUnauthenticated, "")
				return
			}
			http.Redirect(w, r, s.url("login")+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if rt.access.kind == needCan && !s.auth.Can(id, rt.access.action, mux.Vars(r)["city"]) {
			s.fail(w, r, wiki.ErrForbidden, "")
			return
		}
		if !csrfOK {
			s.keepForResubmit(w, r)
			return
		}
		rt.h(w, r)
	}
}

// heldResponse keeps a handler's answer until send.
type heldResponse struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

func (h *heldResponse) send() {
	if h.status == 0 {
		return
	}
	h.ResponseWriter.WriteHeader(h.status)
	h.ResponseWriter.Write(h.body.Bytes())
}

// fail answers err as JSON for the API and as a page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, reason string) {
	if isAPI(r) {
		if reason == "csrf" {
			err = errCSRF
		}
		s.apiError(w, r, err)
		return
	}
	s.htmlError(w, r, err)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database or change listener unavailable\n"))
			return
		}
	}
	w.Write([]byte("ready\n"))
}
