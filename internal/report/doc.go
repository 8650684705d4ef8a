// Package report prints lint findings in the formats CI systems read: plain text for people, a
// documented JSON schema for scripts, SARIF 2.1.0 for GitHub code scanning and other SARIF consumers,
// a GitLab Code Quality report, and GitHub Actions workflow commands (annotations).
//
// # JSON report (--format json), version 1
//
// The JSON report is a single object, indented with two spaces and followed by a newline:
//
//	{
//	  "version": 1,
//	  "tool": {"name": "runner-migrate", "version": "1.2.3"},
//	  "gitlabVersion": "18.x",
//	  "findings": [
//	    {
//	      "ruleId": "RM001",
//	      "ruleName": "legacy-registration-token",
//	      "severity": "error",
//	      "file": "values.yaml",
//	      "line": 3,
//	      "column": 1,
//	      "path": "runnerRegistrationToken",
//	      "message": "...",
//	      "fix": "...",
//	      "helpUri": "https://github.com/runner-migrate/runner-migrate/blob/main/README.md#rm001-legacy-registration-token"
//	    }
//	  ],
//	  "errors": [
//	    {"file": "deploy/broken.yaml", "line": 3, "message": "did not find expected ',' or ']'"}
//	  ],
//	  "summary": {"error": 1, "warning": 0, "info": 0, "notLinted": 1}
//	}
//
// Fields:
//
//   - version (number): the version of this schema, 1. It is always the first field. It changes only
//     if a field is removed or changes meaning, which version 1 promises never to do.
//   - tool.name (string): always "runner-migrate".
//   - tool.version (string): the version of runner-migrate that wrote the report.
//   - gitlabVersion (string): the GitLab version the severities were computed for, like "17.0", or
//     "18.x" for the newest minor of a major.
//   - findings (array): one object per finding, in the order the tool sorted them (file, line, column,
//     rule). It is an empty array, never null, when nothing was found.
//   - findings[].ruleId (string): the rule's stable ID, like "RM001".
//   - findings[].ruleName (string): the rule's stable name, like "legacy-registration-token".
//   - findings[].severity (string): "error", "warning" or "info", for the GitLab version above.
//   - findings[].file (string): the file as it was named on the command line; "-" for standard input.
//   - findings[].line (number): the 1-based line; 0 when the finding is about the file as a whole.
//   - findings[].column (number): the 1-based column; 0 when unknown or when line is 0.
//   - findings[].path (string): where in the document: a values key (gitlab-runner.runners.tags) or an
//     object and field of rendered manifests (Secret ci/x data.runner-token).
//   - findings[].message (string): why this place breaks, and on which GitLab version.
//   - findings[].fix (string): what to do at this place.
//   - findings[].helpUri (string): where the rule is documented.
//   - errors (array): the files lint could not read (they make the exit status 2), in the order
//     they were met. It is an empty array, never null, when every file was read.
//   - errors[].file (string): the file as it was named on the command line; "-" for standard input.
//   - errors[].line (number): the 1-based line of the problem; 0 when the file as a whole.
//   - errors[].message (string): what is wrong.
//   - summary.error, summary.warning, summary.info (numbers): how many findings have each severity.
//   - summary.notLinted (number): how many files lint could not read (the length of errors).
//
// Stability: within version 1 fields are only ever added, never removed, renamed or given another
// meaning or type; readers should ignore fields they do not know. Rule IDs are stable too.
//
// # Other formats
//
// Every format carries the files lint could not read. text prints "file:line: cannot lint: message"
// for each, then "file:line:col: severity RULE message" and an indented "fix:" line per finding, then a
// summary line. sarif writes one SARIF 2.1.0 run listing every rule; results carry a
// partialFingerprints entry "runnerMigrate/v1" (sha256 of rule ID, file and path) that does not change
// when lines shift; an unreadable file is a toolExecutionNotifications entry of the run's invocation,
// whose executionSuccessful is then false. codequality writes a GitLab Code Quality JSON array, an
// unreadable file being a blocker issue "unreadable-file". github writes
// "::error file=...,line=...,col=...,title=...::message" workflow commands.
package report
