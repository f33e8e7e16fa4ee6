package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"hansewiki/wiki"
)

//go:embed demo
var demoFS embed.FS

// readArticleFiles reads the DIR/{city}/{slug}.md layout from fsys. Every
// file that cannot be read is reported, named by its path.
func readArticleFiles(fsys fs.FS) ([]wiki.ImportItem, error) {
	var items []wiki.ImportItem
	var problems []wiki.ImportProblem
	files := map[string][]wiki.ImportFile{} // by "{city}/{slug}"
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		parts := strings.Split(p, "/")
		if len(parts) >= 2 && strings.HasSuffix(parts[1], ".files") {
			// DIR/{city}/{slug}.files/{id}-{name}: an attachment.
			if d.IsDir() {
				if len(parts) > 2 {
					problems = append(problems, wiki.ImportProblem{Source: p, Err: errors.New("expected files {id}-{name} directly in {slug}.files")})
					return fs.SkipDir
				}
				return nil
			}
			var id, name string
			ok := false
			if len(parts) == 3 {
				id, name, ok = wiki.ParseImportFileName(parts[2])
			}
			if !ok {
				problems = append(problems, wiki.ImportProblem{Source: p, Err: errors.New("expected the layout {city}/{slug}.files/{id}-{name}")})
				return nil
			}
			key := parts[0] + "/" + strings.TrimSuffix(parts[1], ".files")
			files[key] = append(files[key], wiki.ImportFile{ID: id, Name: name, Source: p,
				Open: func() (io.ReadCloser, error) { return fsys.Open(p) }})
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(p, ".md") {
			return nil
		}
		if len(parts) == 1 && strings.EqualFold(p, "README.md") {
			return nil
		}
		if len(parts) != 2 {
			problems = append(problems, wiki.ImportProblem{Source: p,
				Err: errors.New("expected the layout {city}/{slug}.md")})
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		it, err := wiki.ParseArticleFile(data)
		if err != nil {
			problems = append(problems, wiki.ImportProblem{Source: p, Err: err})
			return nil
		}
		it.Draft.City = parts[0]
		it.Draft.Slug = strings.TrimSuffix(parts[1], ".md")
		it.Source = p
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range items {
		key := items[i].Draft.City + "/" + items[i].Draft.Slug
		items[i].Files = files[key]
		delete(files, key)
	}
	for _, list := range files {
		for _, f := range list {
			problems = append(problems, wiki.ImportProblem{Source: f.Source, Err: errors.New("no article file for these attachments")})
		}
	}
	if len(problems) > 0 {
		return nil, &wiki.ImportError{Problems: problems}
	}
	return items, nil
}

func cmdImport(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hansewiki import DIR")
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("import: %s is not a directory", dir)
	}
	items, err := readArticleFiles(os.DirFS(dir))
	if err != nil {
		return err
	}
	return importItems(ctx, cfg, log, items, wiki.ImportOptions{Actor: cliActor()}, stdout, stderr)
}

func cmdSeed(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", stderr)
	demo := fs.Bool("demo", false, "import the built-in demo articles (existing ones are kept)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return errors.New("usage: hansewiki seed --demo")
	}
	sub, err := fsSub(demoFS, "demo")
	if err != nil {
		return err
	}
	items, err := readArticleFiles(sub)
	if err != nil {
		return err
	}
	if err := importItems(ctx, cfg, log, items, wiki.ImportOptions{Actor: "seed:" + cliActor(), SkipExisting: true}, stdout, stderr); err != nil {
		return err
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := seedFundingProgrammes(ctx, m.Store); err != nil {
		return err
	}
	return seedDemoAccounts(ctx, m, stdout)
}

// demoProgrammes are the funding programmes the demo articles name, as
// network admins would keep them.
var demoProgrammes = []string{
	"Modellprojekte Smart Cities (BMWSB)",
	"Nationale Klimaschutzinitiative (Kommunalrichtlinie)",
	"Städtebauförderung (Sozialer Zusammenhalt)",
	"Bundesförderung für effiziente Wärmenetze (BEW)",
	"Bundesprogramm Zukunftsfähige Innenstädte und Zentren",
}

// seedFundingProgrammes adds the demo programmes; those the list has are kept.
func seedFundingProgrammes(ctx context.Context, store *wiki.Store) error {
	for _, name := range demoProgrammes {
		if _, err := store.AddFundingProgramme(ctx, name, "seed:"+cliActor()); err != nil && !errors.Is(err, wiki.ErrConflict) {
			return err
		}
	}
	return nil
}

func fsSub(f fs.FS, dir string) (fs.FS, error) { return fs.Sub(f, dir) }

func importItems(ctx context.Context, cfg Config, log *slog.Logger, items []wiki.ImportItem, opts wiki.ImportOptions, stdout, stderr io.Writer) error {
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	bar := newProgress(stderr, "Import", len(items))
	opts.Progress = bar.Set
	n, err := m.Store.ImportAll(ctx, items, opts)
	bar.Done()
	if err != nil {
		return err
	}
	// The search rows are written after commit; a running server would do it
	// too, but the command ends with the articles findable.
	var sbar *progress
	if _, err := m.Search.Worker().Refresh(ctx, func(done, total int) {
		if sbar == nil {
			sbar = newProgress(stderr, "Suchindex", total)
		}
		sbar.Set(done, "")
	}); err != nil {
		return fmt.Errorf("imported %d article(s), but updating the search index failed (a running server retries): %w", n, err)
	}
	if sbar != nil {
		sbar.Done()
	}
	fmt.Fprintf(stdout, "imported %d article(s) in %s\n", n, bar.Elapsed())
	return nil
}

// cliActor names the operating-system user who ran a command, for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func cmdExport(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hansewiki export DIR")
	}
	dir := fs.Arg(0)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("export: %s is not empty; export into a new or empty directory", dir)
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	written := 0
	err = m.Store.EachPublished(ctx, func(a *wiki.Article) error {
		data, err := wiki.FormatArticleFile(&a.Revision, a.Archived)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", a.City, a.Slug, err)
		}
		name := filepath.Join(dir, a.City, a.Slug+".md")
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		written++
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return err
		}
		return exportFiles(ctx, m.Store, a, filepath.Join(dir, a.City, a.Slug+".files"))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d article(s) to %s\n", written, dir)
	return nil
}

// exportFiles writes the attachments the article's published revision
// refers to as dir/{id}-{name}, streamed from the database.
func exportFiles(ctx context.Context, store *wiki.Store, a *wiki.Article, dir string) error {
	list, err := store.RevisionAttachments(ctx, a.Revision.ID)
	if err != nil || len(list) == 0 {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range list {
		out, err := os.Create(filepath.Join(dir, wiki.ExportFileName(f)))
		if err != nil {
			return err
		}
		_, err = io.Copy(out, store.OpenBlob(ctx, f))
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s/%s: file %s: %w", a.City, a.Slug, f.Name, err)
		}
	}
	return nil
}
