<?php

declare(strict_types=1);

require __DIR__ . '/../src/autoload.php';

// The library and the command are built by `make test`; these tests need both.
foreach (['OPSYNC_PHP_LIB' => 'libopsync_php.so', 'OPSYNC_BIN' => 'opsync'] as $var => $what) {
    $path = getenv($var);
    if ($path === false || !is_file($path)) {
        fwrite(STDERR, "set $var to the built $what (make test does)\n");
        exit(1);
    }
}

// The drop-in's end-to-end tests share these.
require_once __DIR__ . '/Whmcs/World.php';
require_once __DIR__ . '/Whmcs/Process.php';
require_once __DIR__ . '/Whmcs/Sandbox.php';
