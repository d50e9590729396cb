#include "build_info.h"

// A marker, then room for the stamp. Not const, so that no compiler folds the (empty) contents into the code
// that reads them: scripts/stamp-build-info.sh finds the marker in the linked binary and writes after it.
#define SANMIN_BUILD_INFO_MARKER "SANMIN-BUILD-INFO:"
#define SANMIN_BUILD_INFO_SIZE 256

__attribute__((used)) char sanmin_build_info_area[SANMIN_BUILD_INFO_SIZE] = SANMIN_BUILD_INFO_MARKER;

const char *sanmin_build_info(void) {
    volatile const char *area = sanmin_build_info_area;
    return (const char *)area + sizeof(SANMIN_BUILD_INFO_MARKER) - 1;
}
