/*
 * server/list.h: intrusive doubly linked list (circular, with a head node).
 * Calls: nothing. Called by: server/ state tables.
 */
#ifndef DAXNFS_SERVER_LIST_H
#define DAXNFS_SERVER_LIST_H

#include <stddef.h>

struct list_node {
	struct list_node *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list_node *h) { h->next = h->prev = h; }
static inline int list_empty(const struct list_node *h) { return h->next == h; }
static inline void list_add_tail(struct list_node *n, struct list_node *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void list_del(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}
#define list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

#endif
