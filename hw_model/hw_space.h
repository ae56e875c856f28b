/* Config keys hw_model reads: the accelerator search space (space.hw.*). */
#ifndef HW_SPACE_H
#define HW_SPACE_H

#include "td_config.h"

extern const td_cfg_key hw_config_keys[];

#endif
