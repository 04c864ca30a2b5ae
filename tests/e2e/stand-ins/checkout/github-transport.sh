#!/usr/bin/env bash
# GitHub's server for the act tests, as git's ext:: transport (tests only): the checkout
# stand-in rewrites $GITHUB_SERVER_URL/<owner>/<repo> to `ext::<this> %S <bare> <url>`.
# Reads are public; a push (git-receive-pack) needs the Authorization header for <url>, as
# GitHub does: persisted by the checkout (persist-credentials: true) or given to that one
# git command through the GIT_CONFIG_* environment.
set -euo pipefail
service="$1" bare="$2" url="$3"
if [ "$service" = git-receive-pack ] &&
  ! git config --get-urlmatch http.extraheader "$url" 2>/dev/null | grep -q '^AUTHORIZATION: basic '; then
  echo "remote: Permission to $url denied: no credentials (persist-credentials: false and no token given)" >&2
  exit 128
fi
exec git "${service#git-}" "$bare"
