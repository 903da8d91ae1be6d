<?php

/**
 * For the admin page under PHP-FPM or Apache (INSTALL.md, "The admin page under PHP-FPM
 * or Apache"). PHP's default `ffi.enable=preload` allows FFI on the command line, and in a
 * web server only in code it preloaded. With, in the web server's PHP settings,
 *
 *     ffi.preload = <WHMCS>/modules/addons/opsync/include/opsync-preload.h
 *     opcache.preload = <WHMCS>/modules/addons/opsync/preload.php
 *     opcache.preload_user = <the web server's user>   ; when PHP starts as root (FPM)
 *
 * the engine library is loaded at the server's start (ffi.preload) and this file compiles
 * opsync's classes into the preloaded code, so the page can plan on the spot. Restart the
 * web server's PHP after installing a new opsync.
 */

if (PHP_VERSION_ID >= 80100) {
    require_once __DIR__ . '/src/autoload.php';
    foreach (array_merge(glob(__DIR__ . '/src/*.php'), glob(__DIR__ . '/src/Whmcs/*.php')) as $file) {
        if (basename($file) !== 'autoload.php') {
            require_once $file;
        }
    }
}
