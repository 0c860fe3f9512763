/* SPDX-License-Identifier: GPL-2.0-only */
/* veil-kbs's HTTP(S) front end over libmicrohttpd. */
#ifndef VEIL_KBS_SERVER_H
#define VEIL_KBS_SERVER_H

#include <stdint.h>

#include "kbs/config.h"

struct kbs_server;

/* Loads policies, makes the token signer and starts listening. 0 or -errno (logged). */
int kbs_server_start(const struct kbs_config *cfg, struct kbs_server **ret);
uint16_t kbs_server_port(const struct kbs_server *s);
/* Drops expired sessions (the caller runs this periodically). */
int kbs_server_sweep(struct kbs_server *s);
void kbs_server_stop(struct kbs_server *s);

#endif
