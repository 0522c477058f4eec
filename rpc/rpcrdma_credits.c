/*
 * rpc/rpcrdma_credits.c: RPC-over-RDMA version 1 credit accounting for one
 * connection, responder side (see rpcrdma.h).
 *
 * RFC 8166 §3.3.1: a credit is one RPC call the requester may have
 * outstanding (sent, reply not yet received). Each call's rdma_credit is
 * the credit limit the requester asks for; each reply's is the limit the
 * responder grants, which the requester must not exceed, and which the
 * responder must back with a posted Receive per credit. Version 1 grants
 * are never 0 (the version 2 draft points out that it, unlike version 1,
 * allows a zero grant): a requester granted nothing could never send
 * again. §3.3.3: until the first reply of a connection arrives, the
 * requester's limit is 1.
 *
 * The grant: what the requester asked for, at least 1, at most the
 * Receives rdma/ keeps posted for calls. A requester asking for less than
 * it could have only limits itself; one asking for more gets what we can
 * back.
 *
 * Overruns: a requester learns a grant only when the reply carrying it
 * arrives, after we sent it, so with the outstanding count released when
 * a reply is posted, a well-behaved requester never has more calls
 * outstanding here than the largest grant we have sent. That largest
 * grant (not the latest: a smaller later grant may still be in flight
 * while the requester uses a larger earlier one) is what a call is checked
 * against. RFC 8166 gives the responder no RPC-level answer to an overrun:
 * the requester broke a MUST, and a Send that finds no posted Receive
 * fails at the RDMA layer and loses the connection. We count and report
 * it; rdma/ should close the connection (the call still counts as
 * outstanding until then, so releases stay balanced).
 */
#include "rpc/rpcrdma.h"

#include <string.h>

void rpc_rdma_credits_init(struct rpc_rdma_credits *c, uint32_t posted_receives)
{
	memset(c, 0, sizeof(*c));
	/* a grant is never 0, so neither is the limit it is clamped to */
	c->limit = posted_receives > 0 ? posted_receives : 1;
	c->requested = 1;
	c->granted_max = 1;
}

bool rpc_rdma_credits_on_call(struct rpc_rdma_credits *c, uint32_t requested)
{
	bool within;

	c->requested = requested;
	if (c->outstanding < UINT32_MAX)
		c->outstanding++;
	within = c->outstanding <= c->granted_max;
	if (!within)
		c->violations++;
	return within;
}

uint32_t rpc_rdma_credits_grant(struct rpc_rdma_credits *c)
{
	uint32_t g = c->requested;

	if (g > c->limit)
		g = c->limit;
	if (g == 0)
		g = 1;
	if (g > c->granted_max)
		c->granted_max = g;
	return g;
}

void rpc_rdma_credits_on_reply(struct rpc_rdma_credits *c)
{
	if (c->outstanding > 0)
		c->outstanding--;
}
