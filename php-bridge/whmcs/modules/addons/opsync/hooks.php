<?php

/**
 * opsync's hook: after WHMCS's own cron job, a sync, when "Run from WHMCS's cron" is on
 * and the last sync is at least the configured interval ago. Off by default.
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/src/autoload.php';

(new \Opsync\Whmcs\WhmcsHost())->hook('AfterCronJob', 1, static function ($vars): void {
    \Opsync\Whmcs\Addon::afterCron(new \Opsync\Whmcs\WhmcsHost());
});
