// Package doclinks holds the tests that keep the repository's Markdown
// true to the code: every relative link names a file that exists and, when
// it has a fragment, a heading or an explicit anchor in that file; every
// test, fuzz target and benchmark it names is defined.
package doclinks
