package lint

// Issue9Paths gives the external tests (report_test.go) the regression fixtures of issue 9.
var Issue9Paths = issue9
