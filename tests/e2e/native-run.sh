#!/usr/bin/env bash
# native-run.sh: a stand-in for build/sandbox-run that runs the program
# natively, to check the e2e scripts' own logic without a sandbox:
#   tests/e2e/busybox.sh tests/e2e/native-run.sh
# Every sandbox-run option is accepted and ignored, including the ones that
# take a separate argument (--root DIR, --bind SPEC, --tmpfs SPEC, --cwd DIR).
# Usage: native-run.sh [OPTIONS] -- PROGRAM [ARG...]
while [ $# -gt 0 ]; do
    case $1 in
    --) shift; break ;;
    --root | --bind | --tmpfs | --cwd | --platform) shift 2 ;;
    --*) shift ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "native-run.sh: no program given" >&2; exit 2; }
exec env -u SANDBOX_RUN_GUEST "$@"
