// Package doclinks holds the test that keeps the repository's Markdown
// links true: every relative link names a file that exists and, when it
// has a fragment, a heading or an explicit anchor in that file.
package doclinks
