<?php

/**
 * STAND-IN for WHMCS's init.php, for tests only. WHMCS itself is proprietary and cannot run
 * here; this root holds just enough of it for opsync's drop-in: the `WHMCS` and `ROOTDIR`
 * constants, `Capsule` with a real PDO to MariaDB (from this root's configuration.php, as
 * WHMCS reads it), and the few WHMCS functions the drop-in may call (includes/standin.php).
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    define('WHMCS', true);
    define('ROOTDIR', __DIR__);
}

require_once __DIR__ . '/includes/standin.php';
