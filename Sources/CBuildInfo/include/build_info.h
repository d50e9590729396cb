#ifndef SANMIN_BUILD_INFO_H
#define SANMIN_BUILD_INFO_H

/// What a packaged build was made from: "version=…\ncommit=…\n", stamped into the binary after the build by
/// scripts/package.sh and deploy/install.sh (scripts/stamp-build-info.sh), so that stamping changes no compiler
/// flag and no build. Empty in a developer's `swift build`.
const char *sanmin_build_info(void);

#endif
