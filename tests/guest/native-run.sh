#!/usr/bin/env bash
# native-run.sh: a stand-in for build/sandbox-run that runs the guest
# directly, so the harness and the tests can be checked without a sandbox.
# It hides SANDBOX_RUN_GUEST: the guest is not pid 1 here.
# Usage: native-run.sh [--platform=X] [--strace] [--bind X] ... -- PROGRAM [ARG...]
while [ $# -gt 0 ]; do
    case $1 in
    --) shift; break ;;
    --bind|--tmpfs|--root|--cwd) shift 2 ;;
    --*) shift ;;
    *) break ;;
    esac
done
exec env -u SANDBOX_RUN_GUEST "$@"
