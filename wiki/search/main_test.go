package search

import (
	"testing"

	"hansewiki/wiki/search/searchtest"
)

func TestMain(m *testing.M) { searchtest.Main(m) }
