/*
 * conf/default_config.c: the config used when daxnfsd is started without -f.
 * Parsed by conf_load like any file; @BASE@ is the base directory main chose
 * (the build tree when run from there, see docs/admin-guide.md).
 */
#include "conf/conf.h"

const char conf_default_text[] =
	"# daxnfsd embedded default configuration\n"
	"NFS_CORE_PARAM {\n"
	"\tBind_Addr = 127.0.0.1;\n"
	"\tNFS_Port = 2049;\n"
	"\tThreads = 8;\n"
	"\tMax_Record_Size = 1114112;\n"
	"\tMax_Connections = 4096;\n"
	"\tRecord_Timeout = 30;\n"
	"\tIdle_Unbound_Timeout = 120;\n"
	"\tMax_Partial_Record_Bytes = 256M;\n"
	"}\n"
	"NFSV4 {\n"
	"\tLease_Lifetime = 90;\n"
	"\tGrace_Period = 90;\n"
	"\tRecovery_Dir = \"@BASE@/state\";\n"
	"\tDomain = localdomain;\n"
	"}\n"
	"LOG {\n"
	"\tLevel = info;\n"
	"\tDestination = stderr;\n"
	"}\n"
	"EXPORT {\n"
	"\tExport_Id = 1;\n"
	"\tPath = \"@BASE@/export\";\n"
	"\tPseudo = /;\n"
	"\tAccess_Type = RW;\n"
	"\tSquash = none;\n"
	"}\n";
