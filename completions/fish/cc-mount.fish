complete -c cc-mount -l root -d 'The store\'s root folder' -r -F
complete -c cc-mount -l rw -d 'Mount an image writable, on a scratch upper folder'
complete -c cc-mount -s h -l help -d 'Print help'
complete -c cc-mount -s V -l version -d 'Print version'
