#ifndef TALLY_CQRENCODE_SHIM_H
#define TALLY_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
