package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RBAC with domains. Policies apply in any domain (p.dom "*"); a role
// granted in the domain "*" holds in every city (see allowed).
const casbinModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && keyMatch(r.dom, p.dom) && r.obj == p.obj && r.act == p.act
`

// Action is something a route or service asks permission for.
type Action struct {
	Obj, Act string
	// AnyCity: holding the permission in any city suffices (authors may
	// propose changes to every city's articles).
	AnyCity bool
	// Network: only the domain "*" counts (network administration).
	Network bool
}

// The actions of the specification's permission table. Reading public and
// network articles needs no role; it is decided by visibility alone.
var (
	ReadCityArticles = Action{Obj: "article", Act: "read_city"}
	CreateArticle    = Action{Obj: "article", Act: "create"}
	ArchiveArticle   = Action{Obj: "article", Act: "archive"}
	ProposeChange    = Action{Obj: "change", Act: "propose", AnyCity: true}
	ReviewChange     = Action{Obj: "change", Act: "review"}
	ManageCity       = Action{Obj: "city", Act: "manage"}
	ReadAudit        = Action{Obj: "audit", Act: "read", AnyCity: true}
	ManageNetwork    = Action{Obj: "network", Act: "manage", Network: true}
)

// PolicyChannel announces policy changes to every instance.
const PolicyChannel = "hansewiki_policy"

// enforcer wraps a synced casbin enforcer whose policy is loaded from the
// casbin_rules table. Writes go through Service in a transaction with
// their audit event, and every instance reloads on PolicyChannel.
type enforcer struct {
	// mu orders checks against reloads: casbin's cache is filled after a
	// decision, so without it a decision made on the old policy could be
	// cached after the reload cleared the cache.
	mu sync.RWMutex
	e  *casbin.SyncedCachedEnforcer
}

func newEnforcer(pool *pgxpool.Pool) (*enforcer, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedCachedEnforcer(m, &pgAdapter{pool: pool})
	if err != nil {
		return nil, fmt.Errorf("casbin: %w", err)
	}
	e.EnableAutoSave(false)
	return &enforcer{e: e}, nil
}

func (en *enforcer) reload() error {
	en.mu.Lock()
	defer en.mu.Unlock()
	if err := en.e.LoadPolicy(); err != nil {
		return err
	}
	return en.e.InvalidateCache()
}

// subject names a user in the role graph; the prefix keeps a user called
// "admin" apart from the role admin.
func subject(username string) string { return "user:" + username }

// allowed checks the city's domain and then "*", where network-wide roles
// live. (Asking twice is several times faster than casbin's domain pattern
// matching, which walks every domain on each check.)
func (en *enforcer) allowed(user, dom string, a Action) bool {
	en.mu.RLock()
	defer en.mu.RUnlock()
	sub := subject(user)
	if ok, err := en.e.Enforce(sub, dom, a.Obj, a.Act); err == nil && ok {
		return true
	}
	if dom == AllCities {
		return false
	}
	ok, err := en.e.Enforce(sub, AllCities, a.Obj, a.Act)
	return err == nil && ok
}

// Can reports whether id may perform a in city. Anonymous visitors hold no
// role, so they can do none of the actions.
func (s *Service) Can(id *Identity, a Action, city string) bool {
	if id == nil {
		return false
	}
	if a.Network {
		return s.enf.allowed(id.Username, AllCities, a)
	}
	if a.AnyCity {
		for _, g := range id.Grants {
			if s.enf.allowed(id.Username, g.City, a) {
				return true
			}
		}
		return false
	}
	return city != "" && city != AllCities && s.enf.allowed(id.Username, city, a)
}

// ReadableCities lists the cities whose city-only articles id may read
// (["*"] for all). Together with "signed in" it is everything the
// visibility rule needs.
func (s *Service) ReadableCities(id *Identity) []string { return s.CitiesWhere(id, ReadCityArticles) }

// CitiesWhere lists the cities in which id may perform a, or ["*"] when id
// may do it in every city.
func (s *Service) CitiesWhere(id *Identity, a Action) []string {
	if id == nil {
		return nil
	}
	var out []string
	for _, g := range id.Grants {
		if g.City == AllCities && s.enf.allowed(id.Username, AllCities, a) {
			return []string{AllCities}
		}
		if !slices.Contains(out, g.City) && s.enf.allowed(id.Username, g.City, a) {
			out = append(out, g.City)
		}
	}
	return out
}

// pgAdapter loads the policy from casbin_rules. It is read-only: writes
// happen in Service transactions so they share the audit event's fate.
type pgAdapter struct{ pool *pgxpool.Pool }

var errReadOnly = errors.New("casbin policies are written through auth.Service")

func (a *pgAdapter) LoadPolicy(m model.Model) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, _ := a.pool.Query(ctx, `SELECT ptype, v0, v1, v2, v3 FROM casbin_rules ORDER BY id`)
	var ptype, v0, v1, v2, v3 string
	_, err := pgx.ForEachRow(rows, []any{&ptype, &v0, &v1, &v2, &v3}, func() error {
		rule := []string{ptype, v0, v1, v2}
		if ptype == "p" {
			rule = append(rule, v3)
		} else {
			rule[1] = subject(v0)
		}
		return persist.LoadPolicyArray(rule, m)
	})
	return err
}

func (a *pgAdapter) SavePolicy(model.Model) error                              { return errReadOnly }
func (a *pgAdapter) AddPolicy(string, string, []string) error                  { return errReadOnly }
func (a *pgAdapter) RemovePolicy(string, string, []string) error               { return errReadOnly }
func (a *pgAdapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }

// Holder is an account that may perform an action in a city.
type Holder struct {
	Username string
	// NetworkOnly: only a role in the domain "*" grants it, none in the
	// city itself.
	NetworkOnly bool
}

// Holders lists who may perform a in city (for a network action, city is
// "*"), from the loaded policy: the workflow asks it whom to notify instead
// of reading the policy table. Disabled accounts are the caller's concern.
func (s *Service) Holders(a Action, city string) []Holder {
	dom := city
	if a.Network {
		dom = AllCities
	}
	en := s.enf
	en.mu.RLock()
	defer en.mu.RUnlock()
	may := func(sub, d string) bool {
		ok, err := en.e.Enforce(sub, d, a.Obj, a.Act)
		return err == nil && ok
	}
	var out []Holder
	seen := map[string]bool{}
	for _, d := range []string{dom, AllCities} {
		rules, err := en.e.GetFilteredGroupingPolicy(2, d)
		if err != nil {
			continue
		}
		for _, g := range rules {
			sub := g[0]
			name, ok := strings.CutPrefix(sub, subject(""))
			if !ok || seen[name] {
				continue
			}
			if d != AllCities && may(sub, d) {
				seen[name] = true
				out = append(out, Holder{Username: name})
			} else if d == AllCities && may(sub, AllCities) {
				seen[name] = true
				out = append(out, Holder{Username: name, NetworkOnly: dom != AllCities})
			}
		}
	}
	slices.SortFunc(out, func(x, y Holder) int { return strings.Compare(x.Username, y.Username) })
	return out
}
