#include "examples/seed_sleep.h"

ABSL_FLAG(
    double, time_scale, 1.0,
    "Multiplies the seed's random 1-5 s sleep in each child (0: no sleep).");
