# baresip (Debian baresip-core) as a headless softphone for the SIP interop
# scripts (sourced).

# A port free for UDP and TCP on 127.0.0.1, with the next one free for TCP
# too (baresip puts TLS on its port + 1).
free_port_pair() {
  /usr/bin/python3 -c '
import socket
while True:
    socks = []
    try:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]; socks.append(t)
        for port in (p, p + 1):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port)); socks.append(u)
        t2 = socket.socket(); t2.bind(("127.0.0.1", p + 1)); socks.append(t2)
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()'
}

# write_baresip_config DIR PORT [config line...]: no sound card (aubridge),
# G.711, commands from -e, one account sip:baresip@127.0.0.1:PORT answering
# every call.
write_baresip_config() {
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"
  {
    echo "poll_method epoll"
    echo "sip_listen 127.0.0.1:$port"
    printf '%s\n' "$@"
    cat <<CFG
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module aubridge.so
module_app account.so
module_app menu.so
audio_player aubridge,nil
audio_source aubridge,nil
audio_alert aubridge,nil
rtp_ports 20000-20100
CFG
  } > "$dir/config"
  echo "<sip:baresip@127.0.0.1:$port>;regint=0;answermode=auto" > "$dir/accounts"
}
