# dist/debian/package.cmake: the Debian package of daxnfsd, built with
# CPack's DEB generator (scripts/package.sh: a Release tree configured with
# -DDAXNFS_PACKAGE=ON -DCMAKE_INSTALL_PREFIX=/usr, then `cpack -G DEB`).
#
# What it carries besides /usr/sbin/daxnfsd and /usr/sbin/daxnfsctl: the systemd unit in
# /lib/systemd/system (Debian 12's place), the man pages compressed, the
# sample configuration as /etc/daxnfs/daxnfs.conf (a conffile, the path the
# unit passes), the state directory /var/lib/daxnfs (mode 0700: client
# records and the file handle key), and /usr/share/doc/daxnfs with the
# copyright file, the Debian changelog and the Prometheus samples.
# Dependencies come from the binary (dpkg-shlibdeps). Included by the
# top-level CMakeLists.txt when DAXNFS_PACKAGE is on.

set(DAXNFS_PACKAGE_MAINTAINER "daxnfs developers <daxnfs@example.org>" CACHE STRING
  "Maintainer of the package (control file and Debian changelog): whoever builds it")
set(pkg_build ${CMAKE_BINARY_DIR}/package)
file(MAKE_DIRECTORY ${pkg_build})
string(TIMESTAMP pkg_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(${CMAKE_SOURCE_DIR}/dist/debian/changelog.in ${pkg_build}/changelog @ONLY)
find_program(GZIP_EXECUTABLE gzip REQUIRED)

# gzip -9n (no name, no time stamp): reproducible, as Debian policy asks.
add_custom_command(
  OUTPUT ${pkg_build}/daxnfsd.8.gz ${pkg_build}/daxnfsctl.8.gz ${pkg_build}/daxnfs.conf.5.gz
          ${pkg_build}/changelog.Debian.gz
  COMMAND ${GZIP_EXECUTABLE} -9nc ${CMAKE_BINARY_DIR}/man/man8/daxnfsd.8 > ${pkg_build}/daxnfsd.8.gz
  COMMAND ${GZIP_EXECUTABLE} -9nc ${CMAKE_BINARY_DIR}/man/man8/daxnfsctl.8 > ${pkg_build}/daxnfsctl.8.gz
  COMMAND ${GZIP_EXECUTABLE} -9nc ${CMAKE_BINARY_DIR}/man/man5/daxnfs.conf.5 > ${pkg_build}/daxnfs.conf.5.gz
  COMMAND ${GZIP_EXECUTABLE} -9nc ${pkg_build}/changelog > ${pkg_build}/changelog.Debian.gz
  DEPENDS man ${CMAKE_BINARY_DIR}/man/man8/daxnfsd.8 ${CMAKE_BINARY_DIR}/man/man8/daxnfsctl.8
          ${CMAKE_BINARY_DIR}/man/man5/daxnfs.conf.5
          ${pkg_build}/changelog
  COMMENT "compressed man pages and changelog for the package")
add_custom_target(package_files ALL DEPENDS ${pkg_build}/daxnfsd.8.gz ${pkg_build}/daxnfsctl.8.gz
  ${pkg_build}/daxnfs.conf.5.gz ${pkg_build}/changelog.Debian.gz)

install(FILES dist/systemd/daxnfsd.service DESTINATION /lib/systemd/system)
install(FILES ${pkg_build}/daxnfsd.8.gz ${pkg_build}/daxnfsctl.8.gz
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${pkg_build}/daxnfs.conf.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES conf/sample/daxnfsd.conf DESTINATION /etc/daxnfs RENAME daxnfs.conf)
install(DIRECTORY DESTINATION /var/lib/daxnfs
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
install(FILES dist/debian/copyright ${pkg_build}/changelog.Debian.gz
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES dist/prometheus/prometheus.yml dist/prometheus/daxnfs-alerts.yml
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME daxnfs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${DAXNFS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "userspace NFSv4.1/4.2 server for files on persistent memory")
set(CPACK_PACKAGE_DESCRIPTION "daxnfsd serves local directories to NFSv4.1 and NFSv4.2
clients over TCP, with delegations backed by local file leases, server-side
CLONE and COPY, and Prometheus metrics. It is built for files on FS-DAX
persistent memory (XFS with reflink, mounted -o dax=always) and serves any
local Linux filesystem.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/dist/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
