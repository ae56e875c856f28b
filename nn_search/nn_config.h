/* Config keys nn_search reads: the network search space (space.net.*), the training
 * recipe and budgets (train.*) and the data (data.*). */
#ifndef NN_CONFIG_H
#define NN_CONFIG_H

#include "td_config.h"

extern const td_cfg_key nn_config_keys[];

#endif
